/*  mc_swarm: a load generator for the controller's engine side (issue 16).
    One process opens N engine sessions, each a real DEALER connection that
    speaks MCP/3 through the codec (mc_proto): REGISTER with its own uuid,
    PING every heartbeat_ms the WELCOME gave, and a RESULT of nils for each
    TASK after --task-ms (0: at once; tasks given to one session run one
    after the other). It stands in for thousands of engines on one host;
    every figure taken with it says so.

        mc_swarm [--file engine.json] [--tcp] -n N [--task-ms T] [--kernels a,b]
                 [--silence K] [--silence-after S] [--connect-s S] [--status-ms MS]
                 [--io-threads T] [--procs P]

    --tcp       the file's TCP endpoint, with CURVE (the cost of a remote
                engine); by default its Unix socket (no CURVE: a local engine)
    --silence K K sessions stop talking (no PING, no RESULT, nothing read)
                at SIGUSR1, or --silence-after S seconds after all registered:
                the controller must expire them and requeue their tasks
    --connect-s spread the connections over S seconds (default 0: a burst)
    --procs P   share the sessions among P child processes (by default as
                many as the open-file limit needs: libzmq takes two
                descriptors per session, so a hard limit of 20,000 holds
                about 9,800 sessions per process); signals are passed on

    SIGTERM or SIGINT: every registered session says BYE, then it exits.
    Status lines go to stdout: "swarm: registered R/N welcomed W heartbeat
    H ms (changed C) retries X reregistered Y tasks T silenced S" once a
    second when something changed,
    and "swarm: all registered in MS ms" once. */
#include "mc_conn.h"
#include "mc_proto.h"
#include <czmq.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

typedef enum { S_REGISTERING, S_READY } s_state_t;

typedef struct {
    void *sock;
    char uuid [33];
    s_state_t state;
    bool silenced;
    bool welcomed;                  //  ever
    int64_t engine_id;
    int64_t heartbeat_us, liveness;
    int64_t last_heard_us;
    int64_t registered_us;          //  when REGISTER was last sent
    int64_t busy_until_us;          //  when its last queued task ends
    int64_t retry_us;               //  REGISTER again after this long without WELCOME (doubling)
    uint32_t pending;               //  results not sent yet
} s_engine_t;

//  A timer: a PING or a RESULT due.
typedef struct {
    int64_t due_us;
    uint32_t engine;
    uint8_t kind;                   //  0 ping/check, 1 result
    uint32_t count;
    uint64_t job, task;
    uint32_t generation;            //  results of a past session are not sent
} s_timer_t;

typedef struct {
    s_timer_t *items;
    size_t size, cap;
} s_heap_t;

static void
s_heap_push (s_heap_t *heap, s_timer_t timer)
{
    if (heap->size == heap->cap) {
        heap->cap = heap->cap? heap->cap * 2: 1024;
        heap->items = realloc (heap->items, heap->cap * sizeof *heap->items);
        assert (heap->items);
    }
    size_t i = heap->size++;
    while (i > 0 && heap->items [(i - 1) / 2].due_us > timer.due_us) {
        heap->items [i] = heap->items [(i - 1) / 2];
        i = (i - 1) / 2;
    }
    heap->items [i] = timer;
}

static s_timer_t
s_heap_pop (s_heap_t *heap)
{
    s_timer_t top = heap->items [0], last = heap->items [--heap->size];
    size_t i = 0;
    while (2 * i + 1 < heap->size) {
        size_t c = 2 * i + 1;
        if (c + 1 < heap->size && heap->items [c + 1].due_us < heap->items [c].due_us)
            c++;
        if (heap->items [c].due_us >= last.due_us)
            break;
        heap->items [i] = heap->items [c];
        i = c;
    }
    if (heap->size)
        heap->items [i] = last;
    return top;
}

static int64_t
s_now_us (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

typedef struct {
    s_engine_t *engines;
    uint32_t *generations;
    size_t n;
    s_heap_t timers;
    char **kernels;
    size_t kernel_count;
    msgpack_sbuffer kernel_info;
    msgpack_sbuffer nils;           //  reused: a RESULT's data
    msgpack_sbuffer batch;          //  reused: the RESULTs of one session's burst
    size_t registered, welcomes, rewelcomed, retries, reregistered, silenced;
    uint64_t tasks, results;
    char host [64];
    int64_t task_us;
} s_swarm_t;

static void
s_send (void *sock, mc_msg_t *msg)
{
    //  A send that would block is dropped: the session's silence brings a retry.
    (void) mc_msg_send (msg, sock, NULL);
}

static void
s_register (s_swarm_t *self, size_t i, int64_t now)
{
    s_engine_t *e = &self->engines [i];
    mc_msg_t msg;
    mc_msg_init (&msg);
    msg.type = MC_REGISTER;
    msg.uuid.ptr = e->uuid;
    msg.uuid.size = 32;
    msg.engine_id = e->engine_id;
    msg.host.ptr = self->host;
    msg.host.size = strlen (self->host);
    msg.pid = getpid ();
    msg.kernel_count = self->kernel_count;
    for (size_t k = 0; k < self->kernel_count; k++) {
        msg.kernels [k].ptr = self->kernels [k];
        msg.kernels [k].size = strlen (self->kernels [k]);
    }
    msg.kernel_info.ptr = self->kernel_info.data;
    msg.kernel_info.size = self->kernel_info.size;
    s_send (e->sock, &msg);
    if (e->state == S_READY)
        self->registered--;
    e->state = S_REGISTERING;
    e->registered_us = now;
}

static void
s_ping (s_engine_t *e)
{
    mc_msg_t msg;
    mc_msg_init (&msg);
    msg.type = MC_PING;
    msg.engine_id = e->engine_id;
    s_send (e->sock, &msg);
}

static void
s_result (s_swarm_t *self, s_engine_t *e, const s_timer_t *t, msgpack_sbuffer *batch, size_t *batched)
{
    uint32_t items = t->count? t->count: 1;
    msgpack_sbuffer_clear (&self->nils);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &self->nils, msgpack_sbuffer_write);
    msgpack_pack_array (&pk, items);
    for (uint32_t k = 0; k < items; k++)
        msgpack_pack_nil (&pk);
    mc_msg_t msg;
    mc_msg_init (&msg);
    msg.type = MC_RESULT;
    msg.engine_id = e->engine_id;
    msg.job = t->job;
    msg.task = t->task;
    msg.status = MC_OK;
    int64_t wall = (int64_t) time (NULL) * 1000000;
    msg.started_us = wall;
    msg.finished_us = wall;
    msg.data.ptr = self->nils.data;
    msg.data.size = self->nils.size;
    //  Results of tasks answered at once go out together, as an engine
    //  sends the results its kernel thread has ready (a BATCH).
    if (!batch || mc_batch_append (batch, &msg))
        s_send (e->sock, &msg);
    else
        (*batched)++;
    self->results++;
}

//  One message from the controller to session i. Results of tasks
//  answered at once are appended to batch.
static void
s_on_message (s_swarm_t *self, size_t i, mc_msg_t *msg, int64_t now, msgpack_sbuffer *batch, size_t *batched)
{
    s_engine_t *e = &self->engines [i];
    switch (msg->type) {
        case MC_WELCOME:
            if (e->state == S_READY && msg->engine_id == e->engine_id) {
                //  A new heartbeat interval, from the next PING on.
                if (msg->heartbeat_ms >= 10 && msg->heartbeat_ms <= 3600000)
                    e->heartbeat_us = (int64_t) msg->heartbeat_ms * 1000;
                self->rewelcomed++;
                break;
            }
            e->engine_id = msg->engine_id;
            e->retry_us = 0;
            if (msg->heartbeat_ms >= 10 && msg->heartbeat_ms <= 3600000)
                e->heartbeat_us = (int64_t) msg->heartbeat_ms * 1000;
            if (msg->liveness >= 1 && msg->liveness <= 1000)
                e->liveness = (int64_t) msg->liveness;
            if (e->state != S_READY)
                self->registered++;
            e->state = S_READY;
            e->welcomed = true;
            self->welcomes++;
            //  A new session: what the old one held is sent again.
            self->generations [i]++;
            e->busy_until_us = now;
            e->pending = 0;
            s_heap_push (&self->timers, (s_timer_t) { now + e->heartbeat_us, (uint32_t) i, 0, 0, 0, 0,
                                                      self->generations [i] });
            break;
        case MC_TASK: {
            self->tasks++;
            int64_t start = e->busy_until_us > now? e->busy_until_us: now;
            e->busy_until_us = start + self->task_us;
            s_timer_t t = { e->busy_until_us, (uint32_t) i, 1, (uint32_t) msg->count, msg->job, msg->task,
                            self->generations [i] };
            if (self->task_us == 0)
                s_result (self, e, &t, batch, batched);
            else {
                e->pending++;
                s_heap_push (&self->timers, t);
            }
            break;
        }
        case MC_BATCH: {
            size_t offset = 0;
            mc_msg_t inner;
            int code;
            while (mc_batch_next (msg, &offset, &inner, &code) == 1)
                s_on_message (self, i, &inner, now, batch, batched);
            break;
        }
        case MC_STOP:
            s_send (e->sock, &(mc_msg_t) { .type = MC_BYE, .engine_id = e->engine_id });
            e->silenced = true;     //  a stopped engine says nothing more
            break;
        case MC_ERROR:
            if (msg->status == MC_E_NOT_REGISTERED && (e->state != S_REGISTERING
            ||  now - e->registered_us > e->heartbeat_us)) {
                self->reregistered++;
                s_register (self, i, now);
            }
            break;
        default:
            break;
    }
}

//  Everything waiting on session i.
static void
s_readable (s_swarm_t *self, size_t i, mc_msg_t *msg, int64_t now)
{
    s_engine_t *e = &self->engines [i];
    size_t batched = 0;
    for (int n = 0; n < 1024 && !e->silenced; n++) {
        int events = 0;
        size_t len = sizeof events;
        if (zmq_getsockopt (e->sock, ZMQ_EVENTS, &events, &len) || !(events & ZMQ_POLLIN))
            break;
        int code;
        int rc = mc_msg_recv (msg, e->sock, false, &code);
        if (rc == -1)
            break;
        e->last_heard_us = now;
        if (rc == -2)
            continue;
        s_on_message (self, i, msg, now, &self->batch, &batched);
    }
    //  A send that would block is dropped, as in s_send.
    (void) mc_batch_send (&self->batch, batched, e->sock, NULL);
    msgpack_sbuffer_clear (&self->batch);
    mc_msg_reset (msg);
}

static void
s_usage (void)
{
    fprintf (stderr, "usage: mc_swarm [--file engine.json] [--tcp] -n N [--task-ms T] [--kernels a,b]\n"
                     "                [--silence K] [--silence-after S] [--connect-s S] [--io-threads T]\n");
}

int
main (int argc, char *argv [])
{
    const char *file = NULL, *kernels = "noop,echo,square,sleep";
    bool tcp = false;
    long n = 0, silence = 0, io_threads = 1, status_ms = 1000, procs = 0;
    double task_ms = 0, silence_after = -1, connect_s = 0;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv [i], *val = i + 1 < argc? argv [i + 1]: NULL;
        if (!strcmp (arg, "--tcp")) { tcp = true; continue; }
        if (!val) { s_usage (); return 2; }
        i++;
        if (!strcmp (arg, "--file")) file = val;
        else if (!strcmp (arg, "-n")) n = atol (val);
        else if (!strcmp (arg, "--task-ms")) task_ms = atof (val);
        else if (!strcmp (arg, "--kernels")) kernels = val;
        else if (!strcmp (arg, "--silence")) silence = atol (val);
        else if (!strcmp (arg, "--silence-after")) silence_after = atof (val);
        else if (!strcmp (arg, "--connect-s")) connect_s = atof (val);
        else if (!strcmp (arg, "--io-threads")) io_threads = atol (val);
        else if (!strcmp (arg, "--status-ms")) status_ms = atol (val);
        else if (!strcmp (arg, "--procs")) procs = atol (val);
        else { s_usage (); return 2; }
    }
    if (n <= 0 || silence < 0 || silence > n || io_threads < 1) {
        s_usage ();
        return 2;
    }
    mc_conn_t conn;
    char err [1024], origin [4200], profile [4096];
    if (mc_conn_profile_dir (NULL, profile, sizeof profile)
    ||  mc_conn_load (MC_ROLE_ENGINE, file, profile, &conn, origin, sizeof origin, err, sizeof err)) {
        fprintf (stderr, "mc_swarm: %s\n", err);
        return 2;
    }
    const char *endpoint = tcp || !conn.ipc [0]? conn.url: conn.ipc;
    //  Each DEALER costs libzmq a descriptor for its mailbox and one for
    //  its connection; an epoll set and a few more are ours. Past the
    //  hard limit, the sessions are shared among child processes.
    struct rlimit limit;
    getrlimit (RLIMIT_NOFILE, &limit);
    limit.rlim_cur = limit.rlim_max;
    setrlimit (RLIMIT_NOFILE, &limit);
    getrlimit (RLIMIT_NOFILE, &limit);
    long per_proc = limit.rlim_cur > 512? (long) (limit.rlim_cur - 256) / 2: 1;
    if (procs <= 0)
        procs = (n + per_proc - 1) / per_proc;
    if ((n + procs - 1) / procs > per_proc) {
        fprintf (stderr, "mc_swarm: %ld sessions in %ld processes need %ld open files each; the limit is %llu\n",
                 n, procs, (n + procs - 1) / procs * 2 + 256, (unsigned long long) limit.rlim_cur);
        return 1;
    }
    //  Signals through the loop (blocked before any child is made).
    sigset_t sigs;
    sigemptyset (&sigs);
    sigaddset (&sigs, SIGTERM);
    sigaddset (&sigs, SIGINT);
    sigaddset (&sigs, SIGUSR1);
    sigprocmask (SIG_BLOCK, &sigs, NULL);
    long lo = 0, hi = n;
    pid_t children [256];
    if (procs > 1) {
        if (procs > 256) {
            fprintf (stderr, "mc_swarm: too many processes (%ld)\n", procs);
            return 1;
        }
        fflush (stdout);
        //  A child that ends at once must still be heard of.
        sigset_t chld;
        sigemptyset (&chld);
        sigaddset (&chld, SIGCHLD);
        sigprocmask (SIG_BLOCK, &chld, NULL);
        for (long c = 0; c < procs; c++) {
            children [c] = fork ();
            if (children [c] == 0) {
                lo = n * c / procs;
                hi = n * (c + 1) / procs;
                goto child;
            }
        }
        //  The parent passes signals on and waits for all.
        printf ("swarm: %ld sessions in %ld processes\n", n, procs);
        fflush (stdout);
        sigaddset (&sigs, SIGCHLD);
        int sig_fd = signalfd (-1, &sigs, SFD_CLOEXEC);
        long alive = procs;
        int rc = 0;
        while (alive > 0) {
            struct signalfd_siginfo info;
            if (read (sig_fd, &info, sizeof info) != sizeof info)
                continue;
            if (info.ssi_signo == SIGCHLD) {
                int status;
                pid_t pid;
                while ((pid = waitpid (-1, &status, WNOHANG)) > 0) {
                    alive--;
                    if (!WIFEXITED (status) || WEXITSTATUS (status))
                        rc = 1;
                }
            }
            else
                for (long c = 0; c < procs; c++)
                    kill (children [c], (int) info.ssi_signo);
        }
        return rc;
    }
    void *ctx;                      //  (a label cannot precede a declaration before C23)
child:
    ctx = zmq_ctx_new ();
    zmq_ctx_set (ctx, ZMQ_MAX_SOCKETS, (int) (hi - lo) + 64);
    zmq_ctx_set (ctx, ZMQ_IO_THREADS, (int) io_threads);
    if (zmq_ctx_get (ctx, ZMQ_MAX_SOCKETS) < (hi - lo) + 64) {
        fprintf (stderr, "mc_swarm: libzmq allows %d sockets\n", zmq_ctx_get (ctx, ZMQ_MAX_SOCKETS));
        return 1;
    }
    s_swarm_t self = { 0 };
    self.n = (size_t) (hi - lo);
    //  The last K sessions of all go silent: those of them that are ours.
    long quiet = silence - (n - hi);
    quiet = quiet < 0? 0: quiet > hi - lo? hi - lo: quiet;
    silence = quiet;
    self.task_us = (int64_t) (task_ms * 1000);
    self.engines = calloc (self.n, sizeof *self.engines);
    self.generations = calloc (self.n, sizeof *self.generations);
    assert (self.engines && self.generations);
    snprintf (self.host, sizeof self.host, "swarm-%d", (int) getpid ());
    char tag [64] = "swarm";
    if (procs > 1)
        snprintf (tag, sizeof tag, "swarm[%ld-%ld]", lo, hi);
    char *names = strdup (kernels);
    self.kernels = calloc (64, sizeof *self.kernels);
    for (char *tok = strtok (names, ","); tok && self.kernel_count < 64; tok = strtok (NULL, ","))
        self.kernels [self.kernel_count++] = tok;
    msgpack_sbuffer_init (&self.kernel_info);
    msgpack_sbuffer_init (&self.nils);
    msgpack_sbuffer_init (&self.batch);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &self.kernel_info, msgpack_sbuffer_write);
    msgpack_pack_array (&pk, self.kernel_count);
    for (size_t k = 0; k < self.kernel_count; k++) {
        msgpack_pack_array (&pk, 3);
        mc_proto_pack_str (&pk, self.kernels [k]);
        mc_proto_pack_str (&pk, "simulated by mc_swarm: nil per item");
        mc_proto_pack_str (&pk, "x:any ...");
    }
    int sig_fd = signalfd (-1, &sigs, SFD_NONBLOCK | SFD_CLOEXEC);
    int ep = epoll_create1 (EPOLL_CLOEXEC);
    assert (sig_fd >= 0 && ep >= 0);
    struct epoll_event ev = { .events = EPOLLIN, .data.u64 = UINT64_MAX };
    epoll_ctl (ep, EPOLL_CTL_ADD, sig_fd, &ev);

    srand ((unsigned) (getpid () ^ s_now_us ()));
    int64_t started = s_now_us ();
    size_t opened = 0;
    mc_msg_t msg;
    mc_msg_init (&msg);
    struct epoll_event events [1024];
    int64_t all_registered_us = 0, silence_at = -1, last_status = 0;
    char last_line [256] = "";
    bool stopping = false;
    while (!stopping) {
        int64_t now = s_now_us ();
        //  Open the sessions due by now (all at once without --connect-s).
        size_t due = connect_s > 0? (size_t) ((double) self.n * (double) (now - started) / (connect_s * 1e6)): self.n;
        for (; opened < self.n && opened < due; opened++) {
            s_engine_t *e = &self.engines [opened];
            for (int k = 0; k < 32; k++)
                e->uuid [k] = "0123456789abcdef" [rand () % 16];
            e->engine_id = -1;
            e->heartbeat_us = 1000000;
            e->liveness = 3;
            e->sock = zmq_socket (ctx, ZMQ_DEALER);
            if (!e->sock) {
                fprintf (stderr, "mc_swarm: socket %zu: %s\n", opened, zmq_strerror (zmq_errno ()));
                return 1;
            }
            int zero = 0, linger = 200, sndtimeo = 0, ivl = 100, ivl_max = 2000;
            zmq_setsockopt (e->sock, ZMQ_SNDHWM, &zero, sizeof zero);
            zmq_setsockopt (e->sock, ZMQ_RCVHWM, &zero, sizeof zero);
            zmq_setsockopt (e->sock, ZMQ_LINGER, &linger, sizeof linger);
            zmq_setsockopt (e->sock, ZMQ_SNDTIMEO, &sndtimeo, sizeof sndtimeo);
            zmq_setsockopt (e->sock, ZMQ_RECONNECT_IVL, &ivl, sizeof ivl);
            zmq_setsockopt (e->sock, ZMQ_RECONNECT_IVL_MAX, &ivl_max, sizeof ivl_max);
            mc_conn_apply (&conn, endpoint, e->sock);
            if (zmq_connect (e->sock, endpoint)) {
                fprintf (stderr, "mc_swarm: connect %s: %s\n", endpoint, zmq_strerror (zmq_errno ()));
                return 1;
            }
            int fd;
            size_t len = sizeof fd;
            zmq_getsockopt (e->sock, ZMQ_FD, &fd, &len);
            ev.events = EPOLLIN;
            ev.data.u64 = opened;
            if (epoll_ctl (ep, EPOLL_CTL_ADD, fd, &ev)) {
                fprintf (stderr, "mc_swarm: epoll: %s\n", strerror (errno));
                return 1;
            }
            e->last_heard_us = now;
            s_register (&self, opened, now);
            s_readable (&self, opened, &msg, now);      //  the send may have taken the fd's signal
            //  A first check for a WELCOME that does not come.
            s_heap_push (&self.timers, (s_timer_t) { now + 3000000 + rand () % 1000000, (uint32_t) opened, 0, 0,
                                                     0, 0, self.generations [opened] });
        }
        int64_t next = now + 100000;
        if (self.timers.size && self.timers.items [0].due_us < next)
            next = self.timers.items [0].due_us;
        if (opened < self.n)
            next = now + 1000;
        int wait_ms = next > now? (int) ((next - now + 999) / 1000): 0;
        int got = epoll_wait (ep, events, 1024, wait_ms);
        now = s_now_us ();
        for (int k = 0; k < got; k++) {
            if (events [k].data.u64 == UINT64_MAX) {
                struct signalfd_siginfo info;
                while (read (sig_fd, &info, sizeof info) == sizeof info) {
                    if (info.ssi_signo == SIGUSR1)
                        silence_at = now;
                    else
                        stopping = true;
                }
                continue;
            }
            s_readable (&self, (size_t) events [k].data.u64, &msg, now);
        }
        //  Timers due: pings (and the checks of silence), results.
        while (self.timers.size && self.timers.items [0].due_us <= now) {
            s_timer_t t = s_heap_pop (&self.timers);
            s_engine_t *e = &self.engines [t.engine];
            if (e->silenced || t.generation != self.generations [t.engine])
                continue;
            if (t.kind == 1) {
                e->pending--;
                s_result (&self, e, &t, NULL, NULL);
                s_readable (&self, t.engine, &msg, now);        //  a send may have taken the fd's signal
                continue;
            }
            int64_t silent_us = now - e->last_heard_us;
            if (e->state == S_READY && silent_us > e->heartbeat_us * e->liveness) {
                //  As an engine does: the controller has been silent too long.
                self.reregistered++;
                self.generations [t.engine]++;
                s_register (&self, t.engine, now);
            }
            else
            if (e->state == S_REGISTERING && now - e->registered_us >= 3000000) {
                //  No WELCOME yet: ask again, on the same connection,
                //  backing off as engines do (mc_node).
                self.retries++;
                e->retry_us = e->retry_us? e->retry_us * 2: 6000000;
                if (e->retry_us > 60000000)
                    e->retry_us = 60000000;
                s_register (&self, t.engine, now);
            }
            else
            if (e->state == S_READY)
                s_ping (e);
            int64_t wait = e->retry_us? e->retry_us: 3000000;
            int64_t again = e->state == S_READY? e->heartbeat_us: wait + rand () % (wait / 2);
            s_heap_push (&self.timers, (s_timer_t) { now + again, t.engine, 0, 0, 0, 0, self.generations [t.engine] });
            s_readable (&self, t.engine, &msg, now);
        }
        if (!all_registered_us && self.registered == self.n) {
            all_registered_us = now;
            printf ("%s: all %zu registered in %lld ms\n", tag, self.n, (long long) ((now - started) / 1000));
            fflush (stdout);
        }
        if (silence_after >= 0 && all_registered_us && silence_at < 0
        &&  now - all_registered_us >= (int64_t) (silence_after * 1e6))
            silence_at = now;
        if (silence_at >= 0 && self.silenced < (size_t) silence) {
            //  The last K: they stop reading and writing, their connections stay.
            for (size_t i = self.n - (size_t) silence; i < self.n; i++)
                self.engines [i].silenced = true;
            self.silenced = (size_t) silence;
            printf ("%s: silenced %ld\n", tag, silence);
            fflush (stdout);
        }
        if (status_ms > 0 && now - last_status >= status_ms * 1000) {
            last_status = now;
            char line [256];
            snprintf (line, sizeof line, "%s: registered %zu/%zu welcomed %zu heartbeat %lld ms (changed %zu) "
                      "retries %zu reregistered %zu tasks %llu silenced %zu", tag, self.registered, self.n,
                      self.welcomes, (long long) (self.n? self.engines [0].heartbeat_us / 1000: 0), self.rewelcomed,
                      self.retries,
                      self.reregistered, (unsigned long long) self.tasks, self.silenced);
            if (strcmp (line, last_line)) {
                printf ("%s\n", line);
                fflush (stdout);
                snprintf (last_line, sizeof last_line, "%s", line);
            }
        }
    }
    //  Goodbye from every session the controller knows.
    size_t byes = 0;
    for (size_t i = 0; i < opened; i++) {
        s_engine_t *e = &self.engines [i];
        if (e->state == S_READY && !e->silenced) {
            s_send (e->sock, &(mc_msg_t) { .type = MC_BYE, .engine_id = e->engine_id });
            byes++;
        }
    }
    mc_msg_reset (&msg);
    for (size_t i = 0; i < opened; i++)
        zmq_close (self.engines [i].sock);
    printf ("%s: %zu said BYE; %llu tasks, %llu results\n", tag, byes, (unsigned long long) self.tasks,
            (unsigned long long) self.results);
    fflush (stdout);
    zmq_ctx_term (ctx);
    close (ep);
    close (sig_fd);
    free (self.engines);
    free (self.generations);
    free (self.timers.items);
    free (self.kernels);
    free (names);
    msgpack_sbuffer_destroy (&self.kernel_info);
    msgpack_sbuffer_destroy (&self.nils);
    msgpack_sbuffer_destroy (&self.batch);
    return 0;
}
