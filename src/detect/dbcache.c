/* dbcache.c — compiled vectorscan databases kept on disk; see dbcache.h.
 *
 * A file: MAGIC, then the length (8 bytes, little-endian) and bytes of what was compiled, then
 * the length, FNV-1a hash (8 bytes each) and bytes of the serialised database: a damaged
 * database is never handed to vectorscan. Written to a temporary file in the same
 * directory and renamed, so a reader sees a whole file or none. */
#include "detect/dbcache.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"

#define MAGIC      "warden-hsdb 1\n"
#define MAGIC_LEN  (sizeof MAGIC - 1)
#define MAX_FILE   ((size_t)256 << 20)
#define PRUNE_DAYS 30

static int put_u64(struct wd_buf *b, uint64_t v)
{
	unsigned char le[8];
	for (int i = 0; i < 8; i++)
		le[i] = (unsigned char)(v >> (8 * i));
	return wd_buf_append(b, le, sizeof le);
}

static uint64_t get_u64(const unsigned char *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* What a compile depends on, as bytes: vectorscan's version, this CPU as vectorscan sees it,
 * the mode, and each pattern. */
static int material(struct wd_buf *b, const char *const *exprs, const unsigned *flags,
                    const unsigned *ids, unsigned n, unsigned mode)
{
	hs_platform_info_t plat;
	memset(&plat, 0, sizeof plat);
	if (hs_populate_platform(&plat) != HS_SUCCESS)
		return -1;
	const char *v = hs_version();
	if (wd_buf_append(b, v, strlen(v) + 1) || put_u64(b, plat.tune) ||
	    put_u64(b, plat.cpu_features) || put_u64(b, mode) || put_u64(b, n))
		return -1;
	for (unsigned i = 0; i < n; i++)
		if (put_u64(b, flags[i]) || put_u64(b, ids[i]) ||
		    wd_buf_append(b, exprs[i], strlen(exprs[i]) + 1))
			return -1;
	return 0;
}

static uint64_t fnv64(const unsigned char *p, size_t n)
{
	uint64_t h = 14695981039346656037ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 1099511628211ull;
	return h;
}

/* Owned by this user and writable by no one else. */
static int is_private(const struct stat *st)
{
	return st->st_uid == geteuid() && !(st->st_mode & (S_IWGRP | S_IWOTH));
}

/* The cache directory, opened (made when missing): an absolute path, without following a link
 * at its end, owned by this user and writable by no one else; -1 when there is none to use.
 * Files are then opened relative to it, so the directory checked is the one used. */
static int open_cache_dir(void)
{
	const char *env = getenv("WARDEN_CACHE_DIR"), *xdg = getenv("XDG_CACHE_HOME"),
	           *home = getenv("HOME");
	char dir[PATH_MAX];
	int n;
	if (env)
		n = snprintf(dir, sizeof dir, "%s", env);
	else if (xdg && xdg[0] == '/') /* the XDG spec: a relative path is ignored */
		n = snprintf(dir, sizeof dir, "%s/warden", xdg);
	else if (home && home[0] == '/') {
		/* not another user's home (sudo without -H): its ~/.cache would become ours */
		struct stat st;
		if (stat(home, &st) != 0 || st.st_uid != geteuid())
			return -1;
		n = snprintf(dir, sizeof dir, "%s/.cache", home);
		if (n > 0 && (size_t)n < sizeof dir)
			(void)mkdir(dir, 0700); /* as the XDG spec makes it */
		n = snprintf(dir, sizeof dir, "%s/.cache/warden", home);
	} else
		return -1;
	if (n <= 0 || (size_t)n >= sizeof dir || dir[0] != '/')
		return -1;
	while (n > 1 && dir[n - 1] == '/') /* "link/" would follow the link */
		dir[--n] = '\0';
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return -1;
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	if (fd >= 0 && (fstat(fd, &st) != 0 || !is_private(&st))) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/* The database of file `name` of directory dfd when it holds exactly what mat describes; 0
 * otherwise. */
static int read_cached(int dfd, const char *name, const struct wd_buf *mat, hs_database_t **db)
{
	/* O_NONBLOCK: a FIFO in its place does not hang the start */
	int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return 0;
	struct stat st;
	unsigned char *p = NULL;
	int ok = 0;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || !is_private(&st) ||
	    (size_t)st.st_size > MAX_FILE || (size_t)st.st_size < MAGIC_LEN + 24 + mat->len)
		goto out;
	size_t size = (size_t)st.st_size, got = 0;
	p = malloc(size);
	if (!p)
		goto out;
	while (got < size) {
		ssize_t r = read(fd, p + got, size - got);
		if (r <= 0)
			goto out;
		got += (size_t)r;
	}
	const unsigned char *q = p + MAGIC_LEN;
	if (memcmp(p, MAGIC, MAGIC_LEN) != 0 || get_u64(q) != mat->len ||
	    memcmp(q + 8, mat->data, mat->len) != 0)
		goto out;
	q += 8 + mat->len;
	uint64_t dlen = get_u64(q), sum = get_u64(q + 8);
	q += 16;
	if (dlen != size - (size_t)(q - p) || fnv64(q, (size_t)dlen) != sum)
		goto out;
	ok = hs_deserialize_database((const char *)q, (size_t)dlen, db) == HS_SUCCESS;
	if (ok)
		(void)futimens(fd, NULL); /* in use: its time is when it was last used (prune) */
out:
	free(p);
	close(fd);
	return ok;
}

/* Files of directory dfd left behind: databases not used for PRUNE_DAYS (packs since changed,
 * another vectorscan), and temporary files an interrupted write left an hour ago or more. */
static void prune(int dfd)
{
	int fd = dup(dfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return;
	}
	time_t now = time(NULL);
	for (struct dirent *e; (e = readdir(d));) {
		size_t l = strlen(e->d_name);
		int db = l > 5 && strcmp(e->d_name + l - 5, ".hsdb") == 0;
		int tmp = strncmp(e->d_name, ".tmp-", 5) == 0;
		struct stat st;
		if ((!db && !tmp) || fstatat(dfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		if (now - st.st_mtime >= (db ? PRUNE_DAYS * 86400 : 3600))
			(void)unlinkat(dfd, e->d_name, 0);
	}
	closedir(d);
}

/* db into file `name` of directory dfd, whole or not at all; failures leave no file (the cache
 * is an optimisation: the next start compiles again). */
static void write_cached(int dfd, const char *name, const struct wd_buf *mat,
                         const hs_database_t *db)
{
	static unsigned counter;
	char *ser = NULL;
	size_t slen = 0;
	if (hs_serialize_database(db, &ser, &slen) != HS_SUCCESS)
		return;
	struct wd_buf out;
	wd_buf_init(&out, MAX_FILE); /* no file that read_cached would refuse */
	char tmp[64];
	if (wd_buf_append(&out, MAGIC, MAGIC_LEN) || put_u64(&out, mat->len) ||
	    wd_buf_append(&out, mat->data, mat->len) || put_u64(&out, slen) ||
	    put_u64(&out, fnv64((const unsigned char *)ser, slen)) ||
	    wd_buf_append(&out, ser, slen))
		goto out;
	/* a name no other writer uses (process, call), and O_EXCL should one exist */
	snprintf(tmp, sizeof tmp, ".tmp-%ld-%u", (long)getpid(),
	         __atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED));
	int fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		goto out;
	size_t done = 0;
	while (done < out.len) {
		ssize_t w = write(fd, out.data + done, out.len - done);
		if (w <= 0)
			break;
		done += (size_t)w;
	}
	if (close(fd) == 0 && done == out.len && renameat(dfd, tmp, dfd, name) == 0)
		prune(dfd); /* a write is rare: when the packs changed, or the first start */
	else
		unlinkat(dfd, tmp, 0);
out:
	wd_buf_free(&out);
	free(ser);
}

hs_error_t wd_dbcache_compile(const char *const *exprs, const unsigned *flags, const unsigned *ids,
                              unsigned n, unsigned mode, hs_database_t **db,
                              hs_compile_error_t **ce, int *hit)
{
	if (hit)
		*hit = 0;
	*ce = NULL;
	struct wd_buf mat;
	wd_buf_init(&mat, MAX_FILE);
	char name[32];
	int dfd = open_cache_dir();
	if (dfd >= 0 && material(&mat, exprs, flags, ids, n, mode) != 0) {
		close(dfd);
		dfd = -1;
	}
	if (dfd >= 0) {
		snprintf(name, sizeof name, "%016llx.hsdb",
		         (unsigned long long)fnv64((const unsigned char *)mat.data, mat.len));
		if (read_cached(dfd, name, &mat, db)) {
			if (hit)
				*hit = 1;
			close(dfd);
			wd_buf_free(&mat);
			return HS_SUCCESS;
		}
	}
	hs_error_t rc = hs_compile_multi(exprs, flags, ids, n, mode, NULL, db, ce);
	if (rc == HS_SUCCESS && dfd >= 0)
		write_cached(dfd, name, &mat, *db);
	if (dfd >= 0)
		close(dfd);
	wd_buf_free(&mat);
	return rc;
}
