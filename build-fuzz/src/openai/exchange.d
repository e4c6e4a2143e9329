build-fuzz/src/openai/exchange.o: src/openai/exchange.c \
  src/openai/exchange.h src/core/err.h

src/openai/exchange.h:

src/core/err.h:
