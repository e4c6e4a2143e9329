build-fuzz/src/mock/api.o: src/mock/api.c src/mock/mock_int.h \
  src/core/buf.h src/core/err.h

src/mock/mock_int.h:

src/core/buf.h:

src/core/err.h:
