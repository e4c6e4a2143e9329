build-asan/tests/test_exchange: tests/unit/test_exchange.c src/core/err.h \
  src/openai/errors.h src/openai/exchange.h tests/unit/test.h

src/core/err.h:

src/openai/errors.h:

src/openai/exchange.h:

tests/unit/test.h:
