/* err.h — warden's one error space.
 * Functions return int: 0 (WD_OK), WD_AGAIN (async: will complete later), or a negative WD_E*.
 * wd_strerror() turns any of them into a short English phrase. */
#ifndef WD_CORE_ERR_H
#define WD_CORE_ERR_H

enum {
	WD_OK = 0,
	WD_AGAIN = 1,
	WD_ENOMEM = -1,
	WD_EINVAL = -2,   /* bad input: malformed JSON, wrong type, bad config value */
	WD_ETOOBIG = -3,  /* a bounded buffer would exceed its maximum */
	WD_EIO = -4,      /* I/O or library failure */
	WD_ETIMEOUT = -5, /* a deadline passed */
	WD_ENOTFOUND = -6,
	WD_ESTATE = -7, /* call not valid in the current state */
};

const char *wd_strerror(int err);

#endif
