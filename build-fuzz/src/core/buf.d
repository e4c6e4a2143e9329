build-fuzz/src/core/buf.o: src/core/buf.c src/core/buf.h src/core/err.h

src/core/buf.h:

src/core/err.h:
