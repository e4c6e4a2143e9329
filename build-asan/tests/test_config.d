build-asan/tests/test_config: tests/unit/test_config.c src/core/config.h \
  src/core/log.h src/core/err.h tests/unit/test.h

src/core/config.h:

src/core/log.h:

src/core/err.h:

tests/unit/test.h:
