/* memfile.h — for the libFuzzer drivers whose parser reads a file: the input bytes as an
 * in-memory file, named by a /proc path. */
#ifndef WD_FUZZ_MEMFILE_H
#define WD_FUZZ_MEMFILE_H

#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

/* The fd of a memfd holding data[0..size) and its path in path, or -1. Close it after use. */
static int memfile(const uint8_t *data, size_t size, char *path, size_t pathlen)
{
	int fd = memfd_create("fuzz", 0);
	if (fd < 0)
		return -1;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return -1;
	}
	snprintf(path, pathlen, "/proc/self/fd/%d", fd);
	return fd;
}

#endif
