build-fuzz/src/chain/chain.o: src/chain/chain.c src/chain/chain.h \
  src/chain/checker.h src/openai/exchange.h src/core/config.h \
  src/core/log.h src/chain/registry.h src/core/err.h

src/chain/chain.h:

src/chain/checker.h:

src/openai/exchange.h:

src/core/config.h:

src/core/log.h:

src/chain/registry.h:

src/core/err.h:
