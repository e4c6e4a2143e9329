build-fuzz/src/core/log.o: src/core/log.c src/core/log.h src/core/err.h

src/core/log.h:

src/core/err.h:
