/* bench/proc_probe.h - what any /proc lister must at least do per
 * process: the directory entry, read stat and cmdline, and with_owner the
 * owner from fstat.  The processes seen.  Shared by bench_proc.c and
 * bench_agent.c, so both measure their probe the same way. */
#ifndef NESTD_BENCH_PROC_PROBE_H
#define NESTD_BENCH_PROC_PROBE_H

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

static int proc_probe(int with_owner)
{
	char path[300], b[4096];
	struct dirent *d;
	struct stat st;
	int dfd, fd, n = 0;
	DIR *dir = opendir("/proc");

	if (!dir)
		return -1;
	dfd = dirfd(dir);
	while ((d = readdir(dir))) {
		if (d->d_name[0] < '1' || d->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "%s/stat", d->d_name);
		if ((fd = openat(dfd, path, O_RDONLY | O_CLOEXEC)) < 0)
			continue;
		if (read(fd, b, sizeof(b)) <= 0 || (with_owner && fstat(fd, &st) < 0))
			n--;
		close(fd);
		snprintf(path, sizeof(path), "%s/cmdline", d->d_name);
		if ((fd = openat(dfd, path, O_RDONLY | O_CLOEXEC)) < 0)
			continue;
		if (read(fd, b, sizeof(b)) < 0)
			n--;
		close(fd);
		n++;
	}
	closedir(dir);
	return n;
}

#endif
