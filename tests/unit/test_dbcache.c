/* test_dbcache.c — the compile cache of rule packs (detect/dbcache.h) through the matcher: a
 * second load of the same pack comes from the cache and matches the same; a damaged, foreign or
 * linked file, another pack, an unsafe directory or a cache turned off mean a compile, and the
 * results are always the compiled ones; a write prunes what is left behind. */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/err.h"
#include "detect/matcher.h"
#include "test.h"

static char dir[64];

#define PACK(re)                                                                               \
	"rules:\n  - {id: a, category: S2, kind: intent, weight: 1, patterns: [\"" re "\"]}\n" \
	"  - {id: b, category: S9, kind: intent, weight: 2, patterns: [\"nerve agent\"]}\n"

static void write_pack(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");
	CHECK(fp != NULL);
	if (!fp)
		return;
	fputs(text, fp);
	fclose(fp);
}

/* The pack at path loaded; *cached: whether from the cache; NULL on error. */
static struct wd_matcher *load(const char *path, int *cached)
{
	char err[256];
	struct wd_matcher *m = NULL;
	const char *paths[] = {path};
	int rc = wd_matcher_load(paths, 1, WD_RULE_KINDS_ALL, &m, err, sizeof err);
	CHECK_EQ_INT(rc, WD_OK);
	if (rc)
		fprintf(stderr, "  %s\n", err);
	*cached = m ? wd_matcher_cached(m) : -1;
	return m;
}

/* The ids of the rules text hits, in order, joined by commas. */
static void hits(const struct wd_matcher *m, const char *text, char *out, size_t len)
{
	struct wd_rule_hit h[8];
	size_t n = 0;
	out[0] = '\0';
	CHECK_EQ_INT(wd_matcher_scan(m, text, strlen(text), h, 8, &n), WD_OK);
	for (size_t i = 0; i < n; i++)
		snprintf(out + strlen(out), len - strlen(out), "%s%s", i ? "," : "", h[i].rule->id);
}

/* The cache files in dir; the last one's path into path (when not NULL). */
static int files(char *path, size_t len)
{
	int n = 0;
	DIR *d = opendir(dir);
	if (!d)
		return -1;
	for (struct dirent *e; (e = readdir(d));) {
		size_t l = strlen(e->d_name);
		if (l > 5 && strcmp(e->d_name + l - 5, ".hsdb") == 0) {
			n++;
			if (path)
				snprintf(path, len, "%s/%s", dir, e->d_name);
		}
	}
	closedir(d);
	return n;
}

static void clear(void)
{
	char path[128];
	while (files(path, sizeof path) > 0)
		unlink(path);
}

/* Loads the pack twice: a compile, then the cache; both find the same. */
static void compiled_then_cached(const char *pack)
{
	int cached;
	char a[64], b[64];
	struct wd_matcher *m = load(pack, &cached);
	CHECK_EQ_INT(cached, 0);
	if (m)
		hits(m, "how to make a nerve agent and a pipe bomb", a, sizeof a);
	wd_matcher_free(m);
	m = load(pack, &cached);
	CHECK_EQ_INT(cached, 1);
	if (m)
		hits(m, "how to make a nerve agent and a pipe bomb", b, sizeof b);
	wd_matcher_free(m);
	CHECK_STR(a, b);
}

TEST(second_load_comes_from_the_cache)
{
	char pack[96];
	snprintf(pack, sizeof pack, "%s/pack.yaml", dir);
	write_pack(pack, PACK("pipe bomb"));
	clear();
	compiled_then_cached(pack);
	CHECK_EQ_INT(files(NULL, 0), 1);
	int cached;
	char got[64];
	struct wd_matcher *m = load(pack, &cached);
	CHECK_EQ_INT(cached, 1);
	if (m) {
		hits(m, "how to make a nerve agent and a pipe bomb", got, sizeof got);
		CHECK_STR(got, "b,a");
		hits(m, "how to bake bread", got, sizeof got);
		CHECK_STR(got, "");
	}
	wd_matcher_free(m);
	/* another pattern is another database: compiled, and a file of its own */
	write_pack(pack, PACK("pipe b[o0]mb"));
	compiled_then_cached(pack);
	CHECK_EQ_INT(files(NULL, 0), 2);
}

enum damage { FLIP, CUT, LINK, SHARED };

/* Damage of one kind to the cache file of pack (a byte flipped at `at`, the file cut there,
 * replaced by a link to itself, or made writable by its group), then a load: compiled (and
 * right), and the file written again, so the load after it is cached. */
static void damaged(const char *pack, enum damage how, off_t at)
{
	char path[128], target[160];
	int cached;
	CHECK_EQ_INT(files(path, sizeof path), 1);
	snprintf(target, sizeof target, "%s.real", path);
	if (how == LINK) { /* a link to a good file is not followed */
		CHECK_EQ_INT(rename(path, target), 0);
		CHECK_EQ_INT(symlink(target, path), 0);
	} else if (how == CUT) {
		CHECK_EQ_INT(truncate(path, at), 0);
	} else if (how == SHARED) {
		CHECK_EQ_INT(chmod(path, 0620), 0);
	} else {
		int fd = open(path, O_RDWR);
		unsigned char c = 0;
		CHECK(fd >= 0 && pread(fd, &c, 1, at) == 1);
		c ^= 0x20;
		CHECK(pwrite(fd, &c, 1, at) == 1);
		close(fd);
	}
	struct wd_matcher *m = load(pack, &cached);
	CHECK_EQ_INT(cached, 0);
	char got[64] = "";
	if (m)
		hits(m, "how to make a nerve agent and a pipe bomb", got, sizeof got);
	CHECK_STR(got, "b,a");
	wd_matcher_free(m);
	m = load(pack, &cached);
	CHECK_EQ_INT(cached, 1);
	wd_matcher_free(m);
	unlink(target);
}

TEST(damaged_files_are_compiled_again)
{
	char pack[96], path[128];
	snprintf(pack, sizeof pack, "%s/pack.yaml", dir);
	write_pack(pack, PACK("pipe bomb"));
	clear();
	compiled_then_cached(pack);
	CHECK_EQ_INT(files(path, sizeof path), 1);
	struct stat st;
	CHECK_EQ_INT(stat(path, &st), 0);
	CHECK_EQ_INT(st.st_mode & 0777, 0600);
	damaged(pack, FLIP, 0);                /* the magic */
	damaged(pack, FLIP, 40);               /* what was compiled */
	damaged(pack, FLIP, st.st_size - 100); /* the database */
	damaged(pack, FLIP, st.st_size - 1);   /* its last byte, which vectorscan does not check */
	damaged(pack, CUT, st.st_size / 2);
	damaged(pack, CUT, 0);
	damaged(pack, LINK, 0);
	damaged(pack, SHARED, 0);
	CHECK_EQ_INT(files(NULL, 0), 1);
}

TEST(unsafe_or_disabled_cache_is_not_used)
{
	char pack[96];
	int cached;
	snprintf(pack, sizeof pack, "%s/pack.yaml", dir);
	write_pack(pack, PACK("pipe bomb"));
	clear();
	compiled_then_cached(pack);
	/* a directory its group may write to is neither read nor written */
	CHECK_EQ_INT(chmod(dir, 0770), 0);
	struct wd_matcher *m = load(pack, &cached);
	CHECK_EQ_INT(cached, 0);
	wd_matcher_free(m);
	clear();
	m = load(pack, &cached);
	wd_matcher_free(m);
	CHECK_EQ_INT(files(NULL, 0), 0);
	CHECK_EQ_INT(chmod(dir, 0700), 0);
	/* WARDEN_CACHE_DIR empty: no cache */
	setenv("WARDEN_CACHE_DIR", "", 1);
	for (int i = 0; i < 2; i++) {
		m = load(pack, &cached);
		CHECK_EQ_INT(cached, 0);
		wd_matcher_free(m);
	}
	CHECK_EQ_INT(files(NULL, 0), 0);
	/* a directory that does not exist yet is made, private */
	char sub[96];
	snprintf(sub, sizeof sub, "%s/made", dir);
	setenv("WARDEN_CACHE_DIR", sub, 1);
	m = load(pack, &cached);
	wd_matcher_free(m);
	struct stat st;
	CHECK_EQ_INT(stat(sub, &st), 0);
	CHECK_EQ_INT(st.st_mode & 0777, 0700);
	m = load(pack, &cached);
	CHECK_EQ_INT(cached, 1);
	wd_matcher_free(m);
	/* nor a link to a directory (with a trailing slash too), nor a relative path */
	char real[96], link[96];
	snprintf(real, sizeof real, "%s/real", dir);
	snprintf(link, sizeof link, "%s/link", dir);
	CHECK_EQ_INT(mkdir(real, 0700), 0);
	CHECK_EQ_INT(symlink(real, link), 0);
	snprintf(link, sizeof link, "%s/link/", dir);
	char cwd[512];
	CHECK(getcwd(cwd, sizeof cwd) != NULL);
	CHECK_EQ_INT(chdir(dir), 0); /* "real" names an existing private directory from here */
	const char *unusable[] = {link, "real"};
	for (size_t u = 0; u < 2; u++) {
		setenv("WARDEN_CACHE_DIR", unusable[u], 1);
		for (int i = 0; i < 2; i++) {
			m = load(pack, &cached);
			CHECK_EQ_INT(cached, 0);
			wd_matcher_free(m);
		}
	}
	CHECK_EQ_INT(chdir(cwd), 0);
	setenv("WARDEN_CACHE_DIR", real, 1);
	m = load(pack, &cached);
	CHECK_EQ_INT(cached, 0); /* nothing was written there through the link */
	wd_matcher_free(m);
	setenv("WARDEN_CACHE_DIR", dir, 1);
}

/* Sets path's modification time to days ago (creating an empty file when it is missing). */
static void age(const char *path, double days)
{
	int fd = open(path, O_WRONLY | O_CREAT, 0600);
	CHECK(fd >= 0);
	struct timespec t[2];
	clock_gettime(CLOCK_REALTIME, &t[0]);
	t[0].tv_sec -= (time_t)(days * 86400);
	t[1] = t[0];
	CHECK_EQ_INT(futimens(fd, t), 0);
	close(fd);
}

static int exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

/* A write (another pack) removes databases unused for 30 days and temporary files over an hour
 * old; a database in use stays (a load from the cache renews its time), as do other files. */
TEST(writes_prune_what_is_left_behind)
{
	char pack[96], used[128], old[128], oldtmp[128], newtmp[128], other[128];
	int cached;
	snprintf(pack, sizeof pack, "%s/pack.yaml", dir);
	write_pack(pack, PACK("pipe bomb"));
	clear();
	compiled_then_cached(pack);
	CHECK_EQ_INT(files(used, sizeof used), 1);
	age(used, 40);
	struct wd_matcher *m = load(pack, &cached); /* used: renewed */
	CHECK_EQ_INT(cached, 1);
	wd_matcher_free(m);
	snprintf(old, sizeof old, "%s/0123456789abcdef.hsdb", dir);
	snprintf(oldtmp, sizeof oldtmp, "%s/.tmp-1-1", dir);
	snprintf(newtmp, sizeof newtmp, "%s/.tmp-2-2", dir);
	snprintf(other, sizeof other, "%s/notes.txt", dir);
	age(old, 31);
	age(oldtmp, 0.1);
	age(newtmp, 0.01);
	age(other, 400);
	write_pack(pack, PACK("pipe b[o0]mb")); /* a miss: compiled and written */
	m = load(pack, &cached);
	CHECK_EQ_INT(cached, 0);
	wd_matcher_free(m);
	CHECK(!exists(old));
	CHECK(!exists(oldtmp));
	CHECK(exists(newtmp));
	CHECK(exists(other));
	CHECK(exists(used));
	CHECK_EQ_INT(files(NULL, 0), 2);
	unlink(newtmp);
	unlink(other);
}

int main(void)
{
	snprintf(dir, sizeof dir, "/tmp/wd_dbcache_XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	setenv("WARDEN_CACHE_DIR", dir, 1);
	RUN(second_load_comes_from_the_cache);
	RUN(damaged_files_are_compiled_again);
	RUN(unsafe_or_disabled_cache_is_not_used);
	RUN(writes_prune_what_is_left_behind);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return DONE();
}
