build-fuzz/src/chain/holdback.o: src/chain/holdback.c \
  src/chain/holdback.h src/core/buf.h src/openai/exchange.h \
  src/core/err.h

src/chain/holdback.h:

src/core/buf.h:

src/openai/exchange.h:

src/core/err.h:
