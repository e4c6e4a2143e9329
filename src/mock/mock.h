/* mock.h — `warden mock`: a deterministic OpenAI-compatible fake model for tests, demos and
 * benchmarks. Personas are chosen by the request's model name (see mock.c and the README). */
#ifndef WD_MOCK_MOCK_H
#define WD_MOCK_MOCK_H

/* Runs the mock until SIGINT/SIGTERM. argv: [--listen HOST:PORT] (default 127.0.0.1:8090)
 * [--threads N]. Returns the process exit status. */
int wd_mock_main(int argc, char **argv);

#endif
