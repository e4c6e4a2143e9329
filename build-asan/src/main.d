build-asan/src/main.o: src/main.c src/admin/admin.h src/core/config.h \
  src/core/log.h src/chain/chain.h src/chain/checker.h \
  src/openai/exchange.h src/core/err.h src/http/proxy.h src/mock/mock.h

src/admin/admin.h:

src/core/config.h:

src/core/log.h:

src/chain/chain.h:

src/chain/checker.h:

src/openai/exchange.h:

src/core/err.h:

src/http/proxy.h:

src/mock/mock.h:
