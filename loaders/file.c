#include "loaders/file.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* Opens path for reading: *fd and its *size when it is a regular file of
 * at most max_size bytes; otherwise fails naming the path, nothing open.
 * O_NONBLOCK: opening a FIFO would otherwise wait for a writer (it has no
 * effect on the regular files that get past fstat). */
static sc_status open_regular(const char *path, size_t max_size, int *fd,
                              size_t *size, struct sc_error *err)
{
  struct stat sb;
  *fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (*fd < 0)
    return sc_fail(err, SC_ERR_FORMAT, "%s: cannot open: %s", path,
                   strerror(errno));
  if (fstat(*fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
    close(*fd);
    return sc_fail(err, SC_ERR_FORMAT, "%s: not a regular file", path);
  }
  if ((uint64_t)sb.st_size > (uint64_t)max_size) {
    close(*fd);
    return sc_fail(err, SC_ERR_FORMAT,
                   "%s: file is %lld bytes, more than the %zu accepted", path,
                   (long long)sb.st_size, max_size);
  }
  *size = (size_t)sb.st_size;
  return SC_OK;
}

sc_status sc_file_read(const char *path, size_t max_size, uint8_t **data,
                       size_t *size, struct sc_error *err)
{
  uint8_t *buf = NULL;
  size_t done = 0, length = 0;
  int fd;
  sc_status st;

  *data = NULL;
  *size = 0;
  st = open_regular(path, max_size, &fd, &length, err);
  if (st)
    return st;
  buf = malloc(length + 1);
  if (!buf) {
    close(fd);
    return sc_fail(err, SC_ERR_NOMEM, "%s: out of memory reading %lld bytes",
                   path, (long long)length);
  }
  while (done < length) {
    ssize_t got = read(fd, buf + done, length - done);
    if (got < 0 && errno == EINTR)
      continue;
    if (got <= 0) {
      free(buf);
      close(fd);
      return sc_fail(err, SC_ERR_FORMAT, "%s: read failed: %s", path,
                     got < 0 ? strerror(errno) : "file shrank while reading");
    }
    done += (size_t)got;
  }
  close(fd);
  buf[done] = 0;
  *data = buf;
  *size = done;
  return SC_OK;
}

/* The mapping of an empty file: mmap refuses length 0. */
static const uint8_t empty_file[1];

sc_status sc_file_map(const char *path, size_t max_size, const uint8_t **data,
                      size_t *size, struct sc_error *err)
{
  size_t length = 0;
  void *map;
  int fd;
  sc_status st;

  *data = NULL;
  *size = 0;
  st = open_regular(path, max_size, &fd, &length, err);
  if (st)
    return st;
  if (length == 0) {
    close(fd);
    *data = empty_file;
    return SC_OK;
  }
  map = mmap(NULL, length, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
  close(fd);
  if (map == MAP_FAILED)
    return sc_fail(err, errno == ENOMEM ? SC_ERR_NOMEM : SC_ERR_FORMAT,
                   "%s: cannot map: %s", path, strerror(errno));
  *data = map;
  *size = length;
  return SC_OK;
}

void sc_file_unmap(const uint8_t *data, size_t size)
{
  if (data && size > 0)
    munmap((void *)data, size);
}

sc_status sc_file_write_atomic(const char *path, const void *data, size_t size,
                               struct sc_error *err)
{
  size_t len = strlen(path);
  char *tmp = malloc(len + 32);
  const uint8_t *p = data;
  size_t done = 0;
  int fd;

  if (!tmp)
    return sc_fail_nomem(err, path);
  snprintf(tmp, len + 32, "%s.tmp.%ld", path, (long)getpid());
  fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd < 0) {
    sc_status st =
        sc_fail(err, SC_ERR_IO, "%s: cannot create: %s", path, strerror(errno));
    free(tmp);
    return st;
  }
  while (done < size) {
    ssize_t put = write(fd, p + done, size - done);
    if (put < 0 && errno == EINTR)
      continue;
    if (put <= 0) {
      sc_status st = sc_fail(err, SC_ERR_IO, "%s: write failed: %s", path,
                             put < 0 ? strerror(errno) : "no progress");
      close(fd);
      unlink(tmp);
      free(tmp);
      return st;
    }
    done += (size_t)put;
  }
  if (close(fd) != 0 || rename(tmp, path) != 0) {
    sc_status st =
        sc_fail(err, SC_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
    unlink(tmp);
    free(tmp);
    return st;
  }
  free(tmp);
  return SC_OK;
}

char *sc_path_dirname(const char *path)
{
  const char *slash = strrchr(path, '/');
  if (!slash)
    return strdup(".");
  if (slash == path)
    return strdup("/");
  return strndup(path, (size_t)(slash - path));
}

char *sc_path_join(const char *base, const char *rel)
{
  size_t lb = strlen(base), lr = strlen(rel);
  char *out = malloc(lb + lr + 2);
  if (!out)
    return NULL;
  memcpy(out, base, lb);
  if (lb > 0 && base[lb - 1] != '/')
    out[lb++] = '/';
  memcpy(out + lb, rel, lr + 1);
  return out;
}

/* 1 when the resolved path real_path lies under the resolved directory
 * real_dir (or is it, when or_equal). */
static int under_dir(const char *real_path, const char *real_dir, int or_equal)
{
  size_t n = strlen(real_dir);
  return strncmp(real_path, real_dir, n) == 0 &&
         (real_path[n] == '/' || (or_equal && real_path[n] == '\0') ||
          strcmp(real_dir, "/") == 0);
}

sc_status sc_path_confine(const char *dir, const char *rel, const char *what,
                          char **resolved, struct sc_error *err)
{
  char *joined, *real_dir, *real_file;
  const char *p;

  *resolved = NULL;
  if (!rel[0])
    return sc_fail(err, SC_ERR_FORMAT, "%s: empty file name", what);
  if (rel[0] == '/')
    return sc_fail(err, SC_ERR_FORMAT,
                   "%s: absolute path '%s' refused (must be inside %s)", what,
                   rel, dir);
  for (p = rel; *p;) { /* reject any ".." component */
    const char *end = strchr(p, '/');
    size_t n = end ? (size_t)(end - p) : strlen(p);
    if (n == 2 && p[0] == '.' && p[1] == '.')
      return sc_fail(err, SC_ERR_FORMAT,
                     "%s: path '%s' refused: '..' leaves %s", what, rel, dir);
    p += n;
    while (*p == '/')
      p++;
  }
  joined = sc_path_join(dir, rel);
  if (!joined)
    return sc_fail_nomem(err, what);
  real_dir = realpath(dir, NULL);
  real_file = realpath(joined, NULL);
  if (!real_dir || !real_file) {
    sc_status st = sc_fail(err, SC_ERR_FORMAT, "%s: cannot open '%s': %s", what,
                           joined, strerror(errno));
    free(joined);
    free(real_dir);
    free(real_file);
    return st;
  }
  free(joined);
  if (!under_dir(real_file, real_dir, 0)) {
    sc_status st = sc_fail(err, SC_ERR_FORMAT,
                           "%s: '%s' resolves outside %s (symbolic link?)",
                           what, rel, dir);
    free(real_dir);
    free(real_file);
    return st;
  }
  free(real_dir);
  *resolved = real_file;
  return SC_OK;
}

sc_status sc_mkdir_p(const char *path, struct sc_error *err)
{
  char *copy;
  char *p;
  if (!path[0])
    return sc_fail(err, SC_ERR_USAGE, "empty directory name");
  copy = strdup(path);
  if (!copy)
    return sc_fail_nomem(err, path);
  for (p = copy + 1; *p; p++) {
    if (*p != '/')
      continue;
    *p = '\0';
    if (mkdir(copy, 0777) != 0 && errno != EEXIST) {
      sc_status st = sc_fail(err, SC_ERR_IO, "%s: cannot create directory: %s",
                             copy, strerror(errno));
      free(copy);
      return st;
    }
    *p = '/';
  }
  if (mkdir(copy, 0777) != 0 && errno != EEXIST) {
    sc_status st = sc_fail(err, SC_ERR_IO, "%s: cannot create directory: %s",
                           copy, strerror(errno));
    free(copy);
    return st;
  }
  free(copy);
  if (!sc_path_is_dir(path))
    return sc_fail(err, SC_ERR_IO, "%s: exists and is not a directory", path);
  return SC_OK;
}

int sc_path_is_dir(const char *path)
{
  struct stat sb;
  return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

int sc_path_inside(const char *path, const char *target)
{
  char *probe = strdup(path), *real_path = NULL, *real_target;
  int inside;
  while (probe && !(real_path = realpath(probe, NULL))) {
    char *up = sc_path_dirname(probe);
    int same = !up || strcmp(up, probe) == 0;
    free(probe);
    probe = NULL;
    if (same)
      free(up);
    else
      probe = up;
  }
  free(probe);
  real_target = real_path ? realpath(target, NULL) : NULL;
  inside = real_target && under_dir(real_path, real_target, 1);
  free(real_path);
  free(real_target);
  return inside;
}

int sc_path_is_file(const char *path)
{
  struct stat sb;
  return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}
