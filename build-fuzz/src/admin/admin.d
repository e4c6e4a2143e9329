build-fuzz/src/admin/admin.o: src/admin/admin.c src/admin/admin.h \
  src/core/config.h src/core/log.h src/core/err.h src/http/proxy.h \
  src/chain/chain.h src/chain/checker.h src/openai/exchange.h

src/admin/admin.h:

src/core/config.h:

src/core/log.h:

src/core/err.h:

src/http/proxy.h:

src/chain/chain.h:

src/chain/checker.h:

src/openai/exchange.h:
