/* agent_sys.c - obtain_system_info (see agent_sys.h).
 *
 * memory.used is total - available (what the kernel says could be handed
 * out without swapping), the figure free(1) and psutil agree on today;
 * disk is the root file system as df(1) shows it; cpu.times are the
 * kernel's counters, from which two samples give a CPU %. */
#include "agent_sys.h"
#include "num.h"
#include "fmt.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sched.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/statvfs.h>
#include <sys/utsname.h>
#include <unistd.h>

ssize_t sys_read(const char *path, char *b, size_t cap)
{
	ssize_t n, got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	while ((size_t)got < cap - 1) {
		n = read(fd, b + got, cap - 1 - (size_t)got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += n;
	}
	close(fd);
	b[got] = '\0';
	return got;
}

/* A "Key:   123 kB" line of /proc/meminfo, in bytes; 0 when absent. */
static unsigned long long meminfo_get(const char *text, const char *key)
{
	size_t kl = strlen(key);
	const char *p = text;

	while (p && *p) {
		if (!strncmp(p, key, kl) && p[kl] == ':')
			return num_strtoull(p + kl + 1, NULL) * 1024;
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return 0;
}

/* The machine's memory (and swap when asked), from /proc/meminfo. */
static void read_memory(unsigned long long *total, unsigned long long *avail,
			unsigned long long *stotal, unsigned long long *sfree)
{
	char b[8192];

	if (sys_read("/proc/meminfo", b, sizeof(b)) < 0)
		b[0] = '\0';
	*total = meminfo_get(b, "MemTotal");
	*avail = meminfo_get(b, "MemAvailable");
	if (!*avail)      /* kernels before 3.14 */
		*avail = meminfo_get(b, "MemFree") + meminfo_get(b, "Buffers") +
			 meminfo_get(b, "Cached");
	if (*avail > *total)
		*avail = *total;
	*stotal = meminfo_get(b, "SwapTotal");
	*sfree = meminfo_get(b, "SwapFree");
	if (*sfree > *stotal)
		*sfree = *stotal;
}

void sys_memory(unsigned long long *total, unsigned long long *avail)
{
	unsigned long long st, sf;

	read_memory(total, avail, &st, &sf);
}

/* "memory" and "swap". */
static void write_memory(struct jw *w)
{
	unsigned long long total, avail, stotal, sfree;

	read_memory(&total, &avail, &stotal, &sfree);
	jw_key(w, "memory");
	jw_obj(w);
	jw_key(w, "total");
	jw_uint(w, total);
	jw_key(w, "available");
	jw_uint(w, avail);
	jw_key(w, "used");
	jw_uint(w, total - avail);
	jw_obj_end(w);
	jw_key(w, "swap");
	jw_obj(w);
	jw_key(w, "total");
	jw_uint(w, stotal);
	jw_key(w, "used");
	jw_uint(w, stotal - sfree);
	jw_obj_end(w);
}

/* "disk": the root file system, as df(1) shows it. */
static void write_disk(struct jw *w)
{
	struct statvfs vfs;

	jw_key(w, "disk");
	jw_obj(w);
	jw_kstr(w, "path", "/");
	if (statvfs("/", &vfs) == 0) {
		unsigned long long fr = vfs.f_frsize ? vfs.f_frsize : vfs.f_bsize;

		jw_key(w, "total");
		jw_uint(w, (unsigned long long)vfs.f_blocks * fr);
		jw_key(w, "used");
		jw_uint(w, (unsigned long long)(vfs.f_blocks - vfs.f_bfree) * fr);
		jw_key(w, "free");
		jw_uint(w, (unsigned long long)vfs.f_bavail * fr);
	} else {
		jw_key(w, "total");
		jw_null(w);
		jw_key(w, "used");
		jw_null(w);
		jw_key(w, "free");
		jw_null(w);
	}
	jw_obj_end(w);
}

long sys_cpu_list_count(const char *p)
{
	long n = 0, lo, hi;

	while (*p >= '0' && *p <= '9') {
		for (lo = 0; *p >= '0' && *p <= '9' && lo < 1000000; p++)
			lo = lo * 10 + (*p - '0');
		hi = lo;
		if (*p == '-' && p[1] >= '0' && p[1] <= '9')
			for (hi = 0, p++; *p >= '0' && *p <= '9' && hi < 1000000; p++)
				hi = hi * 10 + (*p - '0');
		if (hi < lo || hi >= 1000000)
			return 0;
		n += hi - lo + 1;
		if (*p != ',')
			break;
		if (*++p < '0' || *p > '9')
			return 0;
	}
	return n > 0 && (*p == '\n' || *p == 0) ? n : 0;
}

/* The CPUs online, as glibc's sysconf(_SC_NPROCESSORS_ONLN) counts them
 * (and psutil.cpu_count(), which the original client sent): the list in
 * /sys/devices/system/cpu/online, else the CPUs this process may run on.
 * Not sysconf: musl's carries a 1 KB table for the one name, and counts
 * the affinity mask instead. */
static long cpus_online(void)
{
	char b[1024];
	cpu_set_t set;
	long n;

	if (sys_read("/sys/devices/system/cpu/online", b, sizeof(b)) > 0 &&
	    (n = sys_cpu_list_count(b)) > 0)
		return n;
	if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0)
		return CPU_COUNT(&set);
	return 1;
}

/* "times": the first line of /proc/stat (all CPUs together), in seconds,
 * the counters psutil.cpu_times() names.  Usage is the change between
 * two samples (the server's history takes them); nothing here keeps
 * state.  Absent when /proc/stat cannot be read. */
static void write_cpu_times(struct jw *w)
{
	static const char *const keys[] = { "user", "nice", "system", "idle", "iowait", "irq",
					    "softirq", "steal" };
	long hz = (long)getauxval(AT_CLKTCK);    /* what sysconf(_SC_CLK_TCK) reads */
	char b[4096], *p = b, *e;
	size_t i;

	if (hz <= 0 || sys_read("/proc/stat", b, sizeof(b)) < 5 || strncmp(b, "cpu ", 4) != 0)
		return;
	p += 4;
	jw_key(w, "times");
	jw_obj(w);
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++, p = e) {
		unsigned long long t = num_strtoull(p, &e);

		if (e == p)
			t = 0;     /* an old kernel without the later columns */
		jw_key(w, keys[i]);
		jw_double(w, (double)t / (double)hz, 2);
	}
	jw_obj_end(w);
}

int sys_info(struct jw *w, char *err, size_t errlen)
{
	char b[8192];
	struct utsname u;
	double up = 0, l[3] = { 0, 0, 0 };
	const char *end;
	long cores;
	int i;

	if (uname(&u) < 0) {
		fmt_snprintf(err, errlen, "uname: %s", strerror(errno));
		return -1;
	}
	jw_obj(w);
	jw_kstr(w, "hostname", u.nodename);
	jw_kstr(w, "kernel", u.release);
	if (sys_read("/proc/uptime", b, sizeof(b)) > 0)
		up = num_parse(b, &end);
	jw_key(w, "uptime");
	jw_double(w, up, 0);
	if (sys_read("/proc/loadavg", b, sizeof(b)) > 0) {
		const char *p = b, *e;

		/* "%lf %lf %lf" without pulling sscanf into the static binary. */
		for (i = 0; i < 3; i++, p = e) {
			l[i] = num_parse(p, &e);
			if (e == p)
				break;
		}
	}
	jw_key(w, "load");
	jw_arr(w);
	for (i = 0; i < 3; i++)
		jw_double(w, l[i], 2);
	jw_arr_end(w);
	cores = cpus_online();
	jw_key(w, "cpu");
	jw_obj(w);
	jw_kint(w, "cores", cores > 0 ? cores : 1);
	write_cpu_times(w);
	jw_obj_end(w);
	write_memory(w);
	write_disk(w);
	jw_obj_end(w);
	return 0;
}
