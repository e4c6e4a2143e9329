build-asan/tests/test_chain: tests/unit/test_chain.c src/chain/chain.h \
  src/chain/checker.h src/openai/exchange.h src/core/config.h \
  src/core/log.h src/chain/holdback.h src/core/buf.h src/core/err.h \
  tests/unit/test.h

src/chain/chain.h:

src/chain/checker.h:

src/openai/exchange.h:

src/core/config.h:

src/core/log.h:

src/chain/holdback.h:

src/core/buf.h:

src/core/err.h:

tests/unit/test.h:
