build-asan/tests/test_sse: tests/unit/test_sse.c src/core/err.h \
  src/http/sse.h src/core/buf.h tests/unit/test.h

src/core/err.h:

src/http/sse.h:

src/core/buf.h:

tests/unit/test.h:
