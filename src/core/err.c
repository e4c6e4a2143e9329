/* err.c — wd_strerror for warden's error space (err.h). */
#include "core/err.h"

const char *wd_strerror(int err)
{
	switch (err) {
	case WD_OK: return "ok";
	case WD_AGAIN: return "in progress";
	case WD_ENOMEM: return "out of memory";
	case WD_EINVAL: return "invalid input";
	case WD_ETOOBIG: return "too large";
	case WD_EIO: return "I/O error";
	case WD_ETIMEOUT: return "timed out";
	case WD_ENOTFOUND: return "not found";
	case WD_ESTATE: return "invalid state";
	}
	return "unknown error";
}
