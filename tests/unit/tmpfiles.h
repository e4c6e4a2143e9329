/* tmpfiles.h — a test's scratch directory and whole-file reads and writes, for the unit tests
 * that save and load files (models, datasets). main makes the directory (tmpdir_make) and removes
 * it (tmpdir_remove). */
#ifndef WD_TEST_TMPFILES_H
#define WD_TEST_TMPFILES_H

#include <stdio.h>
#include <stdlib.h>

static char tmpdir[64];

/* Makes /tmp/wd-NAME-XXXXXX; 0 on success. */
static int tmpdir_make(const char *name)
{
	snprintf(tmpdir, sizeof tmpdir, "/tmp/wd-%s-XXXXXX", name);
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int tmpdir_remove(void)
{
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

/* The path of name in the scratch directory (the last four stay valid). */
static const char *tmp(const char *name)
{
	static char p[4][128];
	static int k;
	k = (k + 1) % 4;
	snprintf(p[k], sizeof p[k], "%s/%s", tmpdir, name);
	return p[k];
}

static void write_file(const char *path, const void *data, size_t n)
{
	FILE *fp = fopen(path, "wb");
	fwrite(data, 1, n, fp);
	fclose(fp);
}

/* The file's bytes (malloc'd, one spare byte) and their count in *n; NULL when unreadable. */
static unsigned char *read_all(const char *path, size_t *n)
{
	FILE *fp = fopen(path, "rb");
	if (!fp)
		return NULL;
	fseek(fp, 0, SEEK_END);
	long len = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	unsigned char *p = malloc((size_t)len + 1);
	*n = fread(p, 1, (size_t)len, fp);
	fclose(fp);
	return p;
}

#endif
