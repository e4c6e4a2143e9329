build-fuzz/src/mock/mock.o: src/mock/mock.c src/mock/mock.h \
  src/core/err.h src/core/log.h src/mock/mock_int.h src/core/buf.h

src/mock/mock.h:

src/core/err.h:

src/core/log.h:

src/mock/mock_int.h:

src/core/buf.h:
