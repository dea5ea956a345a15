/* tritune: opening user-named files (see file.h). */
#define _GNU_SOURCE
#include "core/file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *tt_file_kind(unsigned mode) {
    switch (mode & S_IFMT) {
    case S_IFREG: return "regular file";
    case S_IFDIR: return "directory";
    case S_IFIFO: return "FIFO";
    case S_IFCHR: return "character device";
    case S_IFBLK: return "block device";
    case S_IFSOCK: return "socket";
    default: return "special file";
    }
}

tt_status tt_open_regular(const char *path, const char *what, int *fd, size_t *size) {
    *fd = -1;
    if (size) *size = 0;
    const int f = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (f < 0) /* a path that names nothing is a usage error; one that cannot be read, an I/O error */
        return tt_set_error(errno == ENOENT || errno == ENOTDIR ? TT_E_ARG : TT_E_IO, "cannot open %s %s: %s", what,
                            path, strerror(errno));
    struct stat sb;
    if (fstat(f, &sb) != 0) {
        const int e = errno;
        close(f);
        return tt_set_error(TT_E_IO, "cannot stat %s %s: %s", what, path, strerror(e));
    }
    if (!S_ISREG(sb.st_mode)) {
        close(f);
        return tt_set_error(TT_E_ARG, "%s %s is a %s, not a regular file", what, path, tt_file_kind(sb.st_mode));
    }
    /* regular files never block; clear O_NONBLOCK anyway so reads behave plainly */
    const int fl = fcntl(f, F_GETFL);
    if (fl >= 0) (void)fcntl(f, F_SETFL, fl & ~O_NONBLOCK);
    *fd = f;
    if (size) *size = (size_t)sb.st_size;
    return TT_OK;
}

tt_status tt_read_regular(const char *path, const char *what, size_t max_bytes, char **buf, size_t *len) {
    *buf = NULL;
    *len = 0;
    int fd;
    size_t size;
    tt_status st = tt_open_regular(path, what, &fd, &size);
    if (st != TT_OK) return st;
    if (size > max_bytes) {
        close(fd);
        return tt_set_error(TT_E_ARG, "%s %s: %zu bytes, more than the %zu a %s may have", what, path, size, max_bytes,
                            what);
    }
    char *b = malloc(size + 1);
    if (!b) {
        close(fd);
        return tt_set_error(TT_E_NOMEM, "reading %s %s: out of memory", what, path);
    }
    size_t n = 0;
    while (n < size) { /* the file may shrink while we read: stop at its end */
        const ssize_t r = read(fd, b + n, size - n);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            const int e = errno;
            free(b);
            close(fd);
            return tt_set_error(TT_E_IO, "error reading %s %s: %s", what, path, strerror(e));
        }
        if (r == 0) break;
        n += (size_t)r;
    }
    close(fd);
    b[n] = '\0';
    *buf = b;
    *len = n;
    return TT_OK;
}
