build-fuzz/src/chain/registry.o: src/chain/registry.c \
  src/chain/registry.h src/chain/checker.h src/openai/exchange.h \
  src/checkers/checkers.h

src/chain/registry.h:

src/chain/checker.h:

src/openai/exchange.h:

src/checkers/checkers.h:
