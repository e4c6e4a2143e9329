build-fuzz/src/core/config.o: src/core/config.c src/core/config.h \
  src/core/log.h src/core/buf.h src/core/err.h

src/core/config.h:

src/core/log.h:

src/core/buf.h:

src/core/err.h:
