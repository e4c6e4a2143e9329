build-fuzz/src/checkers/pattern.o: src/checkers/pattern.c \
  src/chain/checker.h src/openai/exchange.h src/checkers/checkers.h \
  src/core/err.h

src/chain/checker.h:

src/openai/exchange.h:

src/checkers/checkers.h:

src/core/err.h:
