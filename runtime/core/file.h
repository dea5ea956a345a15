/* tritune: opening the files a user names (configs, weight files, tuned.tsv).
 *
 * One rule for every file named on the command line or passed to a loader:
 *   - it does not exist (ENOENT, ENOTDIR): TT_E_ARG ("cannot open <what>
 *     <path>: No such file or directory"), exit code 2: bad usage;
 *   - it is not a regular file (a FIFO, a directory, a device, a socket):
 *     TT_E_ARG ("<what> <path> is a FIFO, not a regular file"), exit code 2,
 *     refused before a single byte is read, so a FIFO never blocks the
 *     program and /dev/zero is never read forever;
 *   - it exists but cannot be read (no permission, an I/O error): TT_E_IO,
 *     exit code 3: the environment.
 * The file is opened with O_NONBLOCK (a FIFO without a writer would block
 * open() itself), then checked with fstat. */
#ifndef TT_CORE_FILE_H
#define TT_CORE_FILE_H

#include <stddef.h>

#include "core/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Open path for reading; *fd is a descriptor of a regular file on TT_OK
 * (*size its size in bytes).  `what` names the file in messages ("weight file"). */
tt_status tt_open_regular(const char *path, const char *what, int *fd, size_t *size);
/* Read a whole regular file of at most max_bytes into a malloc'ed buffer
 * (*buf, NUL-terminated, free() it) of *len bytes.  Larger files: TT_E_ARG. */
tt_status tt_read_regular(const char *path, const char *what, size_t max_bytes, char **buf, size_t *len);
/* "FIFO", "directory", "character device", ... for an st_mode. */
const char *tt_file_kind(unsigned mode);

#ifdef __cplusplus
}
#endif
#endif
