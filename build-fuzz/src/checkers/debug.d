build-fuzz/src/checkers/debug.o: src/checkers/debug.c src/chain/checker.h \
  src/openai/exchange.h src/checkers/checkers.h src/core/err.h

src/chain/checker.h:

src/openai/exchange.h:

src/checkers/checkers.h:

src/core/err.h:
