// File: tests/integration/node/idle_watch.js
// An imapflow client for clients_imapflow_test.py: logs in (STARTTLS, self-signed certificate
// accepted), opens INBOX, IDLEs, and prints one JSON object per line on stdout:
//   {"event":"opened","exists":N,"uidValidity":"..."}   INBOX selected
//   {"event":"idling"}                                   the IDLE command was sent
//   {"event":"exists","count":N,"prevCount":M}           an untagged EXISTS arrived
//   {"event":"closed"}                                   logged out after "quit" on stdin
// Errors go to stderr as {"event":"error",...} and exit non-zero. The Python test bounds every
// wait and kills this process by PID if it hangs.
//
// usage: node idle_watch.js HOST PORT USER PASS
'use strict';

const { ImapFlow } = require('imapflow');

const [host, port, user, pass] = process.argv.slice(2);
if (!pass) {
    process.stderr.write('usage: node idle_watch.js HOST PORT USER PASS\n');
    process.exit(2);
}

function emit(obj) {
    process.stdout.write(JSON.stringify(obj) + '\n');
}

let idleAnnounced = false;
// imapflow logs every command it writes with src "c"; the first IDLE is our "idling" signal.
const noop = () => {};
const logger = {
    trace: noop,
    info: noop,
    warn: noop,
    error: (entry) => process.stderr.write(JSON.stringify(entry) + '\n'),
    debug: (entry) => {
        if (!idleAnnounced && entry && entry.src === 'c' && /^\S+ IDLE\b/.test(entry.msg || '')) {
            idleAnnounced = true;
            emit({ event: 'idling' });
        }
    },
};

const client = new ImapFlow({
    host,
    port: Number(port),
    secure: false, // plain connect, then STARTTLS (offered by mailbridge)
    tls: { rejectUnauthorized: false },
    auth: { user, pass },
    logger,
    logRaw: false,
    disableAutoIdle: false,
});

client.on('exists', (data) => emit({ event: 'exists', count: data.count, prevCount: data.prevCount }));
client.on('error', (err) => {
    process.stderr.write(JSON.stringify({ event: 'error', message: String(err && err.message) }) + '\n');
    process.exit(1);
});

async function main() {
    await client.connect();
    const mailbox = await client.mailboxOpen('INBOX');
    emit({ event: 'opened', exists: mailbox.exists, uidValidity: String(mailbox.uidValidity) });

    // "quit" on stdin (or stdin closing) ends IDLE and logs out.
    let quitting = false;
    const quit = async () => {
        if (quitting) return;
        quitting = true;
        await client.logout();
        emit({ event: 'closed' });
        process.exit(0);
    };
    process.stdin.setEncoding('utf8');
    process.stdin.on('data', (chunk) => { if (chunk.includes('quit')) quit(); });
    process.stdin.on('end', quit);

    // IDLE until interrupted by quit(); imapflow re-enters IDLE after each break.
    while (!quitting) {
        await client.idle();
    }
}

main().catch((err) => {
    process.stderr.write(JSON.stringify({ event: 'error', message: String(err && err.message) }) + '\n');
    process.exit(1);
});
