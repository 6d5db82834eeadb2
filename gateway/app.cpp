// File: gateway/app.cpp
#include "gateway/app.hpp"

#include <csignal>
#include <memory>
#include <string>

#include "gateway/auth/passwd_authenticator.hpp"
#include "gateway/log/log.hpp"
#include "gateway/metrics/gateway_metrics.hpp"
#include "gateway/metrics/http_exporter.hpp"
#include "gateway/metrics/registry.hpp"
#include "gateway/metrics/session_metrics.hpp"
#include "gateway/metrics/store_metrics.hpp"
#include "gateway/net/server.hpp"
#include "gateway/net/tls_context.hpp"
#include "gateway/store/registry.hpp"
#include "gateway/uv/loop.hpp"
#include "gateway/uv/signal.hpp"
#include "protocols/imap/session.hpp"
#include "protocols/pop3/lock_registry.hpp"
#include "protocols/pop3/session.hpp"

#ifndef MB_VERSION
#define MB_VERSION "0.0.0"
#endif

namespace mb::app {
namespace {

store::StoreSettings store_settings(const config::Config& cfg) {
  store::StoreSettings s;
  s.driver = std::string(config::to_string(cfg.store.driver));
  s.path_template = cfg.store.path;
  s.fsync = cfg.store.fsync;
  s.fsync_flags = cfg.store.fsync && cfg.store.fsync_flags;
  const auto& su = cfg.store.special_use;
  s.special_use_names[store::SpecialUse::sent] = su.sent;
  s.special_use_names[store::SpecialUse::drafts] = su.drafts;
  s.special_use_names[store::SpecialUse::trash] = su.trash;
  s.special_use_names[store::SpecialUse::junk] = su.junk;
  s.special_use_names[store::SpecialUse::archive] = su.archive;
  return s;
}

pop3::Settings pop3_settings(const config::Config& cfg) {
  pop3::Settings s;
  switch (cfg.pop3.seen_on_retr) {
    case config::SeenOnRetr::immediate: s.seen_on_retr = pop3::SeenOnRetr::immediate; break;
    case config::SeenOnRetr::quit: s.seen_on_retr = pop3::SeenOnRetr::quit; break;
    case config::SeenOnRetr::never: s.seen_on_retr = pop3::SeenOnRetr::never; break;
  }
  switch (cfg.pop3.delete_mode) {
    case config::DeleteMode::expunge: s.delete_mode = pop3::DeleteMode::expunge; break;
    case config::DeleteMode::flag: s.delete_mode = pop3::DeleteMode::flag; break;
    case config::DeleteMode::keyword: s.delete_mode = pop3::DeleteMode::keyword; break;
  }
  switch (cfg.auth.plaintext) {
    case config::PlaintextPolicy::never: s.plaintext = pop3::Plaintext::never; break;
    case config::PlaintextPolicy::loopback: s.plaintext = pop3::Plaintext::loopback; break;
    case config::PlaintextPolicy::always: s.plaintext = pop3::Plaintext::always; break;
  }
  s.tls_available = cfg.tls.enabled();
  s.lock_session = cfg.pop3.lock_session;
  s.apop = true;  // offered only when the passwd-file has a reversible scheme
  s.implementation = "mailbridge " MB_VERSION;
  s.expire_days = cfg.pop3.expire_days;  // nullopt: EXPIRE NEVER
  s.login_delay = std::chrono::seconds(cfg.pop3.login_delay_s);
  s.authorization_timeout = std::chrono::seconds(cfg.limits.auth_timeout_s);
  s.transaction_timeout = std::chrono::seconds(cfg.pop3.idle_timeout_s);
  return s;
}

imap::Settings imap_settings(const config::Config& cfg) {
  imap::Settings s;
  switch (cfg.auth.plaintext) {
    case config::PlaintextPolicy::never: s.plaintext = imap::PlaintextPolicy::never; break;
    case config::PlaintextPolicy::loopback: s.plaintext = imap::PlaintextPolicy::loopback; break;
    case config::PlaintextPolicy::always: s.plaintext = imap::PlaintextPolicy::always; break;
  }
  s.starttls_available = cfg.tls.enabled();
  s.separator = cfg.store.separator;
  s.max_append_size = cfg.imap.max_literal;
  s.max_line_size = cfg.imap.max_line;
  s.idle_timeout = std::chrono::seconds(cfg.imap.idle_timeout_s);
  s.preauth_timeout = std::chrono::seconds(cfg.limits.auth_timeout_s);
  return s;
}

// Everything that lives as long as the loop runs. Members are destroyed in reverse order:
// the server (and so every session) goes before the store and the authenticator it uses.
struct Gateway {
  explicit Gateway(uv_loop_t* loop, const config::Config& cfg)
      : metrics(registry, MB_VERSION),
        session_metrics(metrics),
        auth(loop, cfg.auth.passwd_file,
             auth::AuthSettings{.failure_delay_ms = cfg.auth.failure_delay_ms,
                                .failure_delay_max_ms = cfg.auth.failure_delay_max_ms}) {}

  // First, so they outlive everything that reports into them.
  metrics::Registry registry;
  metrics::GatewayMetrics metrics;
  metrics::SessionMetrics session_metrics;
  auth::PasswdAuthenticator auth;
  std::unique_ptr<store::Storage> storage;
  // With [listen] metrics: the decorator that times store operations; sessions use it.
  std::unique_ptr<metrics::MeteredStorage> metered_storage;
  pop3::LockRegistry pop3_locks;
  pop3::Settings pop3_cfg;
  imap::Settings imap_cfg;
  std::unique_ptr<pop3::Services> pop3_services;
  std::unique_ptr<imap::Services> imap_services;
  std::unique_ptr<metrics::HttpExporter> exporter;
  std::unique_ptr<net::Server> server;
};

// Runs the loop until no thread-pool request is in flight (or `limit` passes), so the
// completions of work queued by the store and the authenticator run before their owners go.
void drain_pending_work(uv_loop_t* loop, std::chrono::seconds limit) {
  uv_update_time(loop);
  const std::uint64_t deadline = uv_now(loop) + static_cast<std::uint64_t>(limit.count()) * 1000;
  while (loop->active_reqs.count > 0 && uv_now(loop) < deadline) {
    uv_run(loop, UV_RUN_ONCE);
    uv_update_time(loop);
  }
}

}  // namespace

int run(const config::Config& cfg, const std::string& config_path) {
  log::set_level(cfg.log.level);
  log::set_format(cfg.log.format);
  std::signal(SIGPIPE, SIG_IGN);

  uv::Loop loop;
  if (!loop.ok()) {
    log::error("cannot create the event loop: {}", uv_strerror(loop.init_error()));
    return 1;
  }
  int exit_code = 0;
  {
    auto gw = std::make_unique<Gateway>(loop.get(), cfg);
    if (auto r = gw->auth.reload(); !r) {
      log::error("auth.passwd_file: {}", r.error());
      return 1;
    }
    auto storage = store::make_storage(store_settings(cfg), loop.get());
    if (!storage) {
      log::error("store: {}", storage.error());
      return 1;
    }
    gw->storage = std::move(*storage);

    net::ServerLimits limits;
    limits.max_connections = cfg.limits.max_connections;
    limits.output_cap = cfg.limits.output_buffer_max;
    limits.idle_timeout = std::chrono::seconds(cfg.limits.auth_timeout_s);
    gw->server = std::make_unique<net::Server>(loop.get(), limits);

    std::shared_ptr<net::TlsContext> tls;
    if (cfg.tls.enabled()) {
      auto ctx = net::TlsContext::load(cfg.tls.cert, cfg.tls.key);
      if (!ctx) {
        log::error("tls: {}", ctx.error());
        return 1;
      }
      tls = *ctx;
      gw->server->set_tls_context(tls);
    }

    gw->pop3_cfg = pop3_settings(cfg);
    auto uidl = pop3::UidlFormat::compile(cfg.pop3.uidl_format);
    if (!uidl) {
      log::error("pop3.uidl_format: {}", uidl.error());
      return 1;
    }
    gw->pop3_cfg.uidl_format = *uidl;
    gw->pop3_cfg.events = &gw->session_metrics;
    gw->imap_cfg = imap_settings(cfg);
    gw->imap_cfg.events = &gw->session_metrics;
    // Metrics on: sessions see the store through the timing decorator (store_metrics.hpp);
    // off: the store itself, nothing in between.
    store::Storage* session_storage = gw->storage.get();
    if (!cfg.listen.metrics.empty()) {
      gw->metered_storage = std::make_unique<metrics::MeteredStorage>(*gw->storage, gw->metrics);
      session_storage = gw->metered_storage.get();
    }
    gw->pop3_services = std::make_unique<pop3::Services>(
        pop3::Services{gw->auth, *session_storage, gw->pop3_locks});
    gw->imap_services = std::make_unique<imap::Services>(imap::Services{gw->auth, *session_storage});

    Gateway* g = gw.get();
    auto imap_factory = [g](proto::SessionSink& sink) {
      return imap::make_session(sink, g->imap_cfg, *g->imap_services);
    };
    auto pop3_factory = [g](proto::SessionSink& sink) {
      return pop3::make_session(sink, g->pop3_cfg, *g->pop3_services);
    };
    struct Kind {
      const std::vector<config::ListenAddress>* addresses;
      const char* name;
      bool implicit_tls;
      net::SessionFactory factory;
    };
    const Kind kinds[] = {
        {&cfg.listen.imap, "imap", false, imap_factory},
        {&cfg.listen.imaps, "imaps", true, imap_factory},
        {&cfg.listen.pop3, "pop3", false, pop3_factory},
        {&cfg.listen.pop3s, "pop3s", true, pop3_factory},
    };
    for (const Kind& kind : kinds) {
      for (const auto& address : *kind.addresses) {
        if (kind.implicit_tls && !tls) {
          log::error("listen.{}: {} needs [tls] cert and key", kind.name, address.to_string());
          return 1;
        }
        auto r = gw->server->add_listener(address.to_string(),
                                          net::ListenerOptions{kind.name, kind.implicit_tls, kind.factory});
        if (!r) {
          log::error("listen.{}: {}", kind.name, r.error());
          return 1;
        }
      }
    }

    if (!cfg.listen.metrics.empty()) {
      metrics::Counter& tls_errors = gw->metrics.errors.with({"tls"});
      gw->registry.add_collector([g, &tls_errors] {
        std::uint64_t tls_failures = 0;
        for (const char* k : {"imap", "imaps", "pop3", "pop3s"}) {
          const auto stats = g->server->stats(k);
          g->metrics.set_transport(k, stats);
          tls_failures += stats.tls_failures;
        }
        tls_errors.set(tls_failures);
        g->metrics.mailboxes_open.get().set(static_cast<double>(g->storage->open_mailboxes()));
      });
      gw->exporter = std::make_unique<metrics::HttpExporter>(loop.get(), gw->registry);
      for (const auto& address : cfg.listen.metrics) {
        if (auto r = gw->exporter->listen(address.to_string()); !r) {
          log::error("listen.metrics: {}", r.error());
          return 1;
        }
        log::info("serving metrics on http://{}/metrics", address.to_string());
      }
    }

    uv::Signal sigterm(loop.get()), sigint(loop.get()), sighup(loop.get());
    bool stopping = false;
    auto stop = [&](int signum) {
      if (stopping) return;
      stopping = true;
      log::info("signal {}: closing {} connections", signum, g->server->connection_count());
      if (g->exporter) g->exporter->close();
      g->server->shutdown([&] {
        sigterm.stop();
        sigint.stop();
        sighup.stop();
        loop.stop();
      });
    };
    sigterm.start(SIGTERM, stop);
    sigint.start(SIGINT, stop);
    sighup.start(SIGHUP, [&](int) {
      log::info("SIGHUP: reloading users and TLS certificate");
      // Read on the thread pool: a slow disk must not stall the loop.
      g->auth.reload_async([](mb::Result<void, std::string> r) {
        if (!r) log::error("auth.passwd_file: {} (keeping the old users)", r.error());
      });
      if (cfg.tls.enabled()) {
        auto ctx = net::TlsContext::load(cfg.tls.cert, cfg.tls.key);
        if (ctx) {
          g->server->set_tls_context(*ctx);
        } else {
          log::error("tls: {} (keeping the old certificate)", ctx.error());
        }
      }
    });

    log::info("mailbridge {} running (config {})", MB_VERSION, config_path);
    loop.run();
    // Orderly teardown while the loop still runs: first the connections (so sessions drop
    // their mailboxes), then let queued thread-pool work finish (its completions may hold the
    // last reference to a mailbox, whose destructor closes inotify handles), then the store
    // and the authenticator, then their close callbacks.
    gw->exporter.reset();
    gw->server.reset();
    drain_pending_work(loop.get(), std::chrono::seconds(5));
    gw.reset();
    sigterm.close();
    sigint.close();
    sighup.close();
    uv_run(loop.get(), UV_RUN_NOWAIT);
    log::info("mailbridge stopped");
  }
  loop.close();
  return exit_code;
}

}  // namespace mb::app
