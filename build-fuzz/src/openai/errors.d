build-fuzz/src/openai/errors.o: src/openai/errors.c src/openai/errors.h

src/openai/errors.h:
