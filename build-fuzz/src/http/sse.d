build-fuzz/src/http/sse.o: src/http/sse.c src/http/sse.h src/core/buf.h \
  src/core/err.h

src/http/sse.h:

src/core/buf.h:

src/core/err.h:
