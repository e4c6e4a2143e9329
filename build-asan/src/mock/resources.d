build-asan/src/mock/resources.o: src/mock/resources.c src/mock/mock_int.h \
  src/core/buf.h src/core/err.h

src/mock/mock_int.h:

src/core/buf.h:

src/core/err.h:
