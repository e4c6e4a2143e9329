build-fuzz/src/mock/persona.o: src/mock/persona.c src/mock/mock_int.h \
  src/core/buf.h src/core/err.h

src/mock/mock_int.h:

src/core/buf.h:

src/core/err.h:
