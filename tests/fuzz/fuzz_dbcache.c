/* fuzz_dbcache.c — libFuzzer driver for the compile cache's file reader (detect/dbcache.h). The
 * cache file of a one-pattern database is replaced by the input and the database asked for
 * again: a file the reader accepts is scanned, any other is compiled. The first byte chooses
 * the file: the input alone (odd), or the valid file's header and compile description followed
 * by the input (even), so the lengths, checksum and database part get fuzzed too. */
#include <dirent.h>
#include <fcntl.h>
#include <hs/hs.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "detect/dbcache.h"

static const char *const exprs[] = {"pipe bomb"};
static const unsigned flags[] = {HS_FLAG_CASELESS}, ids[] = {0};
static char dir[] = "/tmp/wd_fuzz_dbcache_XXXXXX", path[PATH_MAX];
static unsigned char prefix[4096];
static size_t nprefix;

static hs_error_t ask(hs_database_t **db, int *hit)
{
	hs_compile_error_t *ce = NULL;
	hs_error_t rc = wd_dbcache_compile(exprs, flags, ids, 1, HS_MODE_BLOCK, db, &ce, hit);
	if (ce)
		hs_free_compile_error(ce);
	return rc;
}

static void cleanup(void)
{
	unlink(path);
	rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	if (!mkdtemp(dir))
		abort();
	atexit(cleanup);
	setenv("WARDEN_CACHE_DIR", dir, 1);
	hs_database_t *db = NULL;
	int hit = 0;
	if (ask(&db, &hit) != HS_SUCCESS)
		abort();
	hs_free_database(db);
	/* the file just written: its name, and its bytes up to the database's length */
	DIR *d = opendir(dir);
	for (struct dirent *e; d && (e = readdir(d));)
		if (strstr(e->d_name, ".hsdb"))
			snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
	if (d)
		closedir(d);
	FILE *fp = fopen(path, "rb");
	if (!fp)
		abort();
	size_t n = fread(prefix, 1, sizeof prefix, fp);
	fclose(fp);
	const size_t magic = 14; /* "warden-hsdb 1\n" */
	if (n < magic + 8)
		abort();
	uint64_t mlen = 0;
	for (int i = 7; i >= 0; i--)
		mlen = mlen << 8 | prefix[magic + (size_t)i];
	nprefix = magic + 8 + (size_t)mlen;
	if (nprefix > n)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		return 0;
	int ok = (data[0] & 1) || write(fd, prefix, nprefix) == (ssize_t)nprefix;
	ok = ok && write(fd, data + 1, size - 1) == (ssize_t)(size - 1);
	close(fd);
	if (!ok)
		return 0;
	hs_database_t *db = NULL;
	int hit = 0;
	if (ask(&db, &hit) == HS_SUCCESS) {
		hs_scratch_t *s = NULL;
		if (hs_alloc_scratch(db, &s) == HS_SUCCESS) {
			hs_scan(db, "a pipe bomb", 11, 0, s, NULL, NULL);
			hs_free_scratch(s);
		}
		hs_free_database(db);
	}
	return 0;
}
