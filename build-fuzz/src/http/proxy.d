build-fuzz/src/http/proxy.o: src/http/proxy.c src/http/proxy.h \
  src/chain/chain.h src/chain/checker.h src/openai/exchange.h \
  src/core/config.h src/core/log.h src/chain/holdback.h src/core/buf.h \
  src/core/err.h src/http/sse.h src/openai/errors.h

src/http/proxy.h:

src/chain/chain.h:

src/chain/checker.h:

src/openai/exchange.h:

src/core/config.h:

src/core/log.h:

src/chain/holdback.h:

src/core/buf.h:

src/core/err.h:

src/http/sse.h:

src/openai/errors.h:
