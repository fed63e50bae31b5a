package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"sort"
	"sync"
	"time"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/account"
	"github.com/cardportal/cardportal/authorize"
	"github.com/cardportal/cardportal/card"
)

var _ authorize.Store = (*Store)(nil)

// Group commit. One write transaction per network message would make the commit (the
// WAL append on SQLite, the WAL flush on PostgreSQL) the cost of every decision. The
// messages are instead queued to a committer goroutine that takes whatever is
// waiting (up to maxBatch), runs them in one transaction, commits once and only then
// answers each caller: an answer is never given for something that is not
// committed. If any message of a batch fails, the batch is rolled back and each of
// its messages runs again in a transaction of its own (commit), so one message's
// failure costs the others a retry, never their answer.
//
// Serialisation per account: every message locks its account's row first (SELECT ...
// FOR UPDATE on PostgreSQL; SQLite's IMMEDIATE transaction already excludes every
// other writer). A batch runs its messages in account order, so two committers (two
// instances on one PostgreSQL, or the several committers of one instance there) take
// account locks in the same order and cannot deadlock on them. On PostgreSQL an
// instance runs pgCommitters committers, each owning the accounts whose id is equal
// to its number modulo their count, so one account's messages always queue in one
// place; SQLite has one writer and so one committer.
//
// Measured tail (cardportal load, SQLite): most of the p99 at 1,000-3,000/s was
// SQLite's automatic WAL checkpoint, which ran inside the commit that took the WAL
// past 1000 pages, with two fsyncs, and stalled the decisions queued behind it. The
// sqlite package now checkpoints off the write path (sqlite/checkpoint.go).
const (
	maxBatch     = 256
	pgCommitters = 4
)

type authJob struct {
	ctx     context.Context
	account int64
	fn      func(tx *poolTx) error
	done    chan error
}

type committer struct {
	s    *Store
	jobs chan authJob
}

type committers struct {
	list []*committer
	stop chan struct{}
	wg   sync.WaitGroup
}

// authCommitters is keyed by Store rather than a field of it, so the shared Store
// type needs no change for this feature; closeCommitters stops them.
var (
	authCommittersMu sync.Mutex
	authCommitters   = map[*Store]*committers{}
)

func (s *Store) committers() *committers {
	authCommittersMu.Lock()
	defer authCommittersMu.Unlock()
	c, ok := authCommitters[s]
	if !ok {
		c = &committers{stop: make(chan struct{})}
		n := 1
		if s.d.Name == "postgres" {
			n = pgCommitters
		}
		for range n {
			cm := &committer{s: s, jobs: make(chan authJob, maxBatch*4)}
			c.list = append(c.list, cm)
			c.wg.Add(1)
			go func() { defer c.wg.Done(); cm.loop(c.stop) }()
		}
		authCommitters[s] = c
	}
	return c
}

// StopCommitters stops the group-commit goroutines of s, after the batches in hand.
// Messages submitted afterwards start them again.
func (s *Store) StopCommitters() {
	authCommittersMu.Lock()
	c, ok := authCommitters[s]
	delete(authCommitters, s)
	authCommittersMu.Unlock()
	if ok {
		close(c.stop)
		c.wg.Wait()
	}
}

// inBatch runs fn in a group-committed transaction and returns once it is committed
// (nil) or rolled back (fn's error, or the commit's).
//
// Two instances deciding the same new message id at once both find it new; the
// second's insert then fails on a unique key and rolls back. inBatch runs such a
// message once more, and it finds the first one's answer.
func (s *Store) inBatch(ctx context.Context, accountID int64, fn func(tx *poolTx) error) error {
	err := s.inBatchOnce(ctx, accountID, fn)
	if err != nil && s.d.IsUniqueViolation(err, "", "") {
		err = s.inBatchOnce(ctx, accountID, fn)
	}
	return err
}

func (s *Store) inBatchOnce(ctx context.Context, accountID int64, fn func(tx *poolTx) error) error {
	cs := s.committers()
	cm := cs.list[int(uint64(accountID)%uint64(len(cs.list)))]
	j := authJob{ctx: ctx, account: accountID, fn: fn, done: make(chan error, 1)}
	select {
	case cm.jobs <- j:
	case <-ctx.Done():
		return cp.E("sqlstore.inBatch", cp.Internal, "", ctx.Err())
	}
	// Wait for the commit even if ctx ends meanwhile: the caller must not report a
	// failure for something that may yet commit.
	return <-j.done
}

func (c *committer) loop(stop chan struct{}) {
	batch := make([]authJob, 0, maxBatch)
	for {
		batch = batch[:0]
		select {
		case <-stop:
			// Answer what is still queued, so no caller waits for ever.
			for {
				select {
				case j := <-c.jobs:
					j.done <- cp.E("sqlstore.commit", cp.Internal, "", errors.New("store closing"))
				default:
					return
				}
			}
		case j := <-c.jobs:
			batch = append(batch, j)
		}
		// Take what is queued, yield once so that handlers already running can queue
		// theirs, and take those too: a commit writes every page the batch dirtied
		// to the WAL, about a dozen for one decision and not many more for ten.
		// (Waiting on a timer instead was measured worse: on a loaded machine the
		// timer fires late and the committer, the bottleneck, idles.)
		for yielded := false; len(batch) < maxBatch; {
			select {
			case j := <-c.jobs:
				batch = append(batch, j)
				continue
			default:
			}
			if yielded {
				break
			}
			yielded = true
			runtime.Gosched()
		}
		c.commit(batch)
	}
}

// commit runs the batch in one transaction. If any message fails, the whole
// transaction is rolled back and each message runs again in a transaction of its own,
// so one message's failure never fails another. (Savepoints per message would do the
// same but cost two statements per message on the fast path.) Messages run in account
// order; see the comment at the top.
func (c *committer) commit(batch []authJob) {
	sort.SliceStable(batch, func(i, k int) bool { return batch[i].account < batch[k].account })
	if len(batch) > 1 {
		if err := c.run(batch); err == nil {
			for _, j := range batch {
				j.done <- nil
			}
			return
		}
	}
	for _, j := range batch {
		j.done <- c.run([]authJob{j})
	}
}

// run runs jobs in one transaction and commits it if every one succeeds; it returns
// the first error (the job's own for a single job).
func (c *committer) run(jobs []authJob) error {
	const op = "sqlstore.commit"
	// The batch's own context: one caller giving up must not abort the others.
	ctx := context.Background()
	tx, err := c.s.write.begin(ctx)
	if err != nil {
		return cp.E(op, cp.Internal, "", err)
	}
	for _, j := range jobs {
		err := j.ctx.Err()
		if err == nil {
			err = j.fn(tx)
		}
		if err != nil {
			tx.done(ctx)
			return err
		}
	}
	if err := tx.commit(ctx); err != nil {
		return cp.E(op, cp.Internal, "", err)
	}
	return nil
}

// CardByFingerprint returns the immutable facts of a card.
func (s *Store) CardByFingerprint(ctx context.Context, fingerprint []byte) (authorize.CardRef, error) {
	const op = "sqlstore.CardByFingerprint"
	var (
		r           authorize.CardRef
		month, year int
	)
	err := s.read.QueryRowContext(ctx, `
SELECT c.id, c.account_id, c.exp_month, c.exp_year, p.code, a.currency
  FROM cards c
  JOIN accounts a ON a.id = c.account_id
  JOIN products p ON p.id = a.product_id
 WHERE c.pan_fingerprint = $1`, fingerprint).Scan(&r.CardID, &r.AccountID, &month, &year, &r.Product, &r.Currency)
	if err != nil {
		return authorize.CardRef{}, notFoundOr(op, err)
	}
	r.Expiry = card.Expiry{Month: month, Year: year}
	return r, nil
}

// storedAnswer returns the answer stored for msg.ID and true, or false if the id is
// new; Conflict if it was used for another message. A new message is recorded with
// its answer by storeAnswer at the end of the same transaction: should two
// instances decide the same new id at once, the second insert fails on the primary
// key, its transaction rolls back, and the network's resend finds the first answer.
func (s *Store) storedAnswer(ctx context.Context, tx *poolTx, op string, msg authorize.Message) (authorize.Answer, bool, error) {
	var (
		kind, response string
		digest         []byte
	)
	err := tx.QueryRowContext(ctx, `SELECT kind, digest, response FROM network_messages WHERE message_id = $1`, msg.ID).
		Scan(&kind, &digest, &response)
	if errors.Is(err, sql.ErrNoRows) {
		return authorize.Answer{}, false, nil
	}
	if err != nil {
		return authorize.Answer{}, false, cp.E(op, cp.Internal, "", err)
	}
	return storedResponse(op, msg, kind, digest, response)
}

// storedResponse is the earlier answer to msg's id: msg's own if it is a resend,
// Conflict if the id was used for another message.
func storedResponse(op string, msg authorize.Message, kind string, digest []byte, response string) (authorize.Answer, bool, error) {
	if kind != msg.Kind || string(digest) != string(msg.Digest) {
		return authorize.Answer{}, true, cp.E(op, cp.Conflict, "", fmt.Errorf("message id reused for a different %s message", msg.Kind))
	}
	var a authorize.Answer
	if err := json.Unmarshal([]byte(response), &a); err != nil {
		return authorize.Answer{}, true, cp.E(op, cp.Internal, "", fmt.Errorf("stored answer: %w", err))
	}
	a.Replayed = true
	return a, true, nil
}

func (s *Store) storeAnswer(ctx context.Context, tx *poolTx, op string, msg authorize.Message, a authorize.Answer) error {
	b, err := json.Marshal(a)
	if err != nil {
		return cp.E(op, cp.Internal, "", err)
	}
	_, err = tx.ExecContext(ctx, `
INSERT INTO network_messages (message_id, kind, digest, received_at, response) VALUES ($1, $2, $3, $4, $5)`,
		msg.ID, msg.Kind, nonNilBytes(msg.Digest), micros(msg.At), string(b))
	if err != nil {
		return cp.E(op, cp.Internal, "", err)
	}
	return nil
}

// lockAccount takes the account's row lock for the rest of the transaction on
// PostgreSQL. SQLite's writer is alone anyway: there it runs no statement.
func (s *Store) lockAccount(ctx context.Context, tx *poolTx, accountID int64) error {
	if s.d.LockSuffix == "" {
		return nil
	}
	var limit int64
	return tx.QueryRowContext(ctx, `SELECT credit_limit FROM accounts WHERE id = $1`+s.d.LockSuffix, accountID).Scan(&limit)
}

// insertPosting writes a ledger entry the authorisation logic has already checked
// and returns its id.
func (s *Store) insertPosting(ctx context.Context, tx *poolTx, e account.Entry) (id int64, err error) {
	const insert = `
INSERT INTO postings (account_id, amount, kind, description, posted_at, idempotency_key,
                      card_id, merchant, mcc, city, country, channel, status, search)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`
	args := []any{e.AccountID, e.Amount, string(e.Kind), e.Description, micros(e.PostedAt), e.IdempotencyKey,
		nullID(e.CardID), e.Merchant, e.MCC, e.City, e.Country, string(e.Channel), string(e.Status),
		searchText(e.Merchant, e.Description)}
	if !s.d.LastInsertID {
		err = tx.QueryRowContext(ctx, insert+" RETURNING id", args...).Scan(&id)
		return id, err
	}
	res, err := tx.ExecContext(ctx, insert, args...)
	if err != nil {
		return 0, err
	}
	return res.LastInsertId()
}

func releasePosting(ctx context.Context, tx *poolTx, postingID int64) error {
	_, err := tx.ExecContext(ctx, `UPDATE postings SET status = 'released' WHERE id = $1 AND status = 'pending'`, postingID)
	return err
}

// Authorise decides an authorisation request in a group-committed transaction.
//
// On PostgreSQL every statement is a round trip, which was most of a decision's cost
// there, so an approval takes three: the account lock together with the look-up of
// an earlier answer, the snapshot, and one statement that writes the hold, the
// authorisation and the answer. (The earlier answer is read in the statement that
// waits for the lock, so it may miss one committed meanwhile by another instance;
// then the answer's insert fails on the message id and inBatch runs the message
// again, which finds it. Reading it in the snapshot instead, under the lock, cost
// a fifth of the throughput there.) SQLite runs the statements one by one, in
// process, each with a fixed cost of its own, so there the snapshot looks up the
// earlier answer.
func (s *Store) Authorise(ctx context.Context, msg authorize.Message, ref authorize.CardRef, since time.Time, hold authorize.Hold,
	decide func(authorize.Snapshot) authorize.Decision) (authorize.Answer, error) {
	const op = "sqlstore.Authorise"
	var out authorize.Answer
	err := s.inBatch(ctx, ref.AccountID, func(tx *poolTx) error {
		var (
			a    authorize.Answer
			done bool
			err  error
		)
		switch {
		case ref.CardID == 0:
			a, done, err = s.storedAnswer(ctx, tx, op, msg)
		case s.d.LockSuffix != "":
			a, done, err = s.lockWithAnswer(ctx, tx, op, msg, ref.AccountID)
		}
		if done || err != nil {
			out = a
			return err
		}
		a = authorize.Answer{MessageID: msg.ID, Code: authorize.NoSuchCard}
		if ref.CardID != 0 {
			var stored bool
			if a, stored, err = s.authorise(ctx, tx, msg, ref, since, hold, decide); err != nil {
				return err
			}
			if stored {
				out = a
				return nil
			}
		}
		out = a
		return s.storeAnswer(ctx, tx, op, msg, a)
	})
	return out, err
}

// lockWithAnswer takes the account's row lock (PostgreSQL) and, in the same
// statement, looks for an earlier answer to msg, like storedAnswer.
func (s *Store) lockWithAnswer(ctx context.Context, tx *poolTx, op string, msg authorize.Message, accountID int64) (authorize.Answer, bool, error) {
	var (
		limit          int64
		kind, response sql.NullString
		digest         []byte
	)
	err := tx.QueryRowContext(ctx, `
SELECT a.credit_limit, n.kind, n.digest, n.response
  FROM accounts a LEFT JOIN network_messages n ON n.message_id = $2
 WHERE a.id = $1 FOR UPDATE OF a`, accountID, msg.ID).Scan(&limit, &kind, &digest, &response)
	if err != nil {
		return authorize.Answer{}, false, cp.E(op, cp.Internal, "", err)
	}
	if !kind.Valid {
		return authorize.Answer{}, false, nil
	}
	return storedResponse(op, msg, kind.String, digest, response.String)
}

// The snapshot an authorisation is decided on: the account's limit and totals, the
// card's state, its PIN and the failures against it. On SQLite it also has the
// answer stored earlier for the message id $2, if any (see Authorise).
const (
	snapshotColumns = `
SELECT a.credit_limit, COALESCE(t.posted, 0), COALESCE(t.pending, 0), c.state,
       p.value, COALESCE(p.set_at, 0), COALESCE(r.set_at, -1), COALESCE(r.failures, 0)`
	snapshotFrom = `
  FROM cards c
  JOIN accounts a ON a.id = c.account_id
  LEFT JOIN account_totals t ON t.account_id = a.id
  LEFT JOIN card_pins p ON p.card_id = c.id
  LEFT JOIN card_pin_tries r ON r.card_id = c.id`
	snapshotQuery       = snapshotColumns + snapshotFrom + ` WHERE c.id = $1`
	snapshotAnswerQuery = snapshotColumns + `, n.kind, n.digest, n.response` + snapshotFrom + `
  LEFT JOIN network_messages n ON n.message_id = $2 WHERE c.id = $1`
)

// authorise decides the message with the account locked (PostgreSQL: by the
// caller's lockWithAnswer). On SQLite it first looks for an earlier answer, and
// returns it (or Conflict) if there is one. stored reports that there is nothing
// more to write: the answer was stored before, or now with the approval.
func (s *Store) authorise(ctx context.Context, tx *poolTx, msg authorize.Message, ref authorize.CardRef, since time.Time, hold authorize.Hold,
	decide func(authorize.Snapshot) authorize.Decision) (a authorize.Answer, stored bool, err error) {
	const op = "sqlstore.Authorise"
	// The lock was a statement of its own: on PostgreSQL a statement that waited for
	// a row lock re-reads only the locked rows, and its subqueries would still see
	// the totals from before the other transaction committed. This statement starts
	// after the lock, so it sees them. SQLite's writer is alone and needs no lock.
	var (
		snap                           authorize.Snapshot
		state                          string
		pinSetAt, triesSetAt, failures int64
		kind, response                 sql.NullString
		digest                         []byte
	)
	dest := []any{&snap.CreditLimit, &snap.Balance, &snap.Pending, &state, &snap.PINValue, &pinSetAt, &triesSetAt, &failures}
	var row *sql.Row
	if s.d.LockSuffix == "" {
		row = tx.QueryRowContext(ctx, snapshotAnswerQuery, ref.CardID, msg.ID)
		dest = append(dest, &kind, &digest, &response)
	} else {
		row = tx.QueryRowContext(ctx, snapshotQuery, ref.CardID)
	}
	if err := row.Scan(dest...); err != nil {
		return authorize.Answer{}, false, cp.E(op, cp.Internal, "", err)
	}
	if kind.Valid {
		a, _, err := storedResponse(op, msg, kind.String, digest, response.String)
		return a, true, err
	}
	snap.State = card.State(state)
	if ref.TokenID != 0 {
		if err := tokenSnapshot(ctx, tx, ref.TokenID, &snap); err != nil {
			return authorize.Answer{}, false, cp.E(op, cp.Internal, "", err)
		}
	}
	// Failures count for the PIN they were made against; a new PIN starts afresh.
	if snap.PINValue != nil && pinSetAt == triesSetAt {
		snap.PINFailures = int(failures)
	}
	if !since.IsZero() {
		err = tx.QueryRowContext(ctx, `
SELECT COUNT(*), CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM authorisations
 WHERE card_id = $1 AND created_at > $2`, ref.CardID, micros(since)).Scan(&snap.VelocityCount, &snap.VelocityTotal)
		if err != nil {
			return authorize.Answer{}, false, cp.E(op, cp.Internal, "", err)
		}
	}
	d := decide(snap)
	switch d.PIN {
	case authorize.PINBad:
		_, err = tx.ExecContext(ctx, `
INSERT INTO card_pin_tries (card_id, set_at, failures) VALUES ($1, $2, 1)
ON CONFLICT (card_id) DO UPDATE SET failures = CASE WHEN card_pin_tries.set_at = excluded.set_at THEN card_pin_tries.failures + 1 ELSE 1 END,
                                    set_at = excluded.set_at`, ref.CardID, pinSetAt)
	case authorize.PINGood:
		_, err = tx.ExecContext(ctx, `DELETE FROM card_pin_tries WHERE card_id = $1`, ref.CardID)
	}
	if err != nil {
		return authorize.Answer{}, false, cp.E(op, cp.Internal, "", err)
	}
	a = authorize.Answer{MessageID: msg.ID, Code: d.Code}
	if !d.Approved() {
		return a, false, nil
	}
	a.AuthCode = hold.AuthCode
	if s.d.LockSuffix != "" { // PostgreSQL, see Authorise
		if err := s.approveInOne(ctx, tx, msg, ref, hold, a); err != nil {
			return authorize.Answer{}, false, cp.E(op, cp.Internal, "", err)
		}
		return a, true, nil
	}
	postingID, err := s.insertPosting(ctx, tx, hold.Entry)
	if err != nil {
		return authorize.Answer{}, false, cp.E(op, cp.Internal, "", err)
	}
	_, err = tx.ExecContext(ctx, `
INSERT INTO authorisations (message_id, account_id, card_id, posting_id, amount, open_amount, auth_code, status, created_at, expires_at)
VALUES ($1, $2, $3, $4, $5, $5, $6, 'open', $7, $8)`,
		msg.ID, ref.AccountID, ref.CardID, postingID, hold.Entry.Amount, hold.AuthCode, micros(msg.At), micros(hold.ExpiresAt))
	if err != nil {
		return authorize.Answer{}, false, cp.E(op, cp.Internal, "", err)
	}
	return a, false, nil
}

// approveInOne writes an approval's hold, its authorisation and the answer in one
// statement (PostgreSQL's data-modifying WITH).
func (s *Store) approveInOne(ctx context.Context, tx *poolTx, msg authorize.Message, ref authorize.CardRef, hold authorize.Hold, a authorize.Answer) error {
	b, err := json.Marshal(a)
	if err != nil {
		return err
	}
	e := hold.Entry
	_, err = tx.ExecContext(ctx, `
WITH p AS (
  INSERT INTO postings (account_id, amount, kind, description, posted_at, idempotency_key,
                        card_id, merchant, mcc, city, country, channel, status, search)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
  RETURNING id
), au AS (
  INSERT INTO authorisations (message_id, account_id, card_id, posting_id, amount, open_amount, auth_code, status, created_at, expires_at)
  SELECT $15, $16, $17, p.id, $2, $2, $18, 'open', $19, $20 FROM p
)
INSERT INTO network_messages (message_id, kind, digest, received_at, response) VALUES ($15, $21, $22, $19, $23)`,
		e.AccountID, e.Amount, string(e.Kind), e.Description, micros(e.PostedAt), e.IdempotencyKey,
		nullID(e.CardID), e.Merchant, e.MCC, e.City, e.Country, string(e.Channel), string(e.Status),
		searchText(e.Merchant, e.Description),
		msg.ID, ref.AccountID, ref.CardID, hold.AuthCode, micros(msg.At), micros(hold.ExpiresAt),
		msg.Kind, nonNilBytes(msg.Digest), string(b))
	return err
}

// openAuth is an authorisation as reversal and clearing find it, locked.
type openAuth struct {
	id, postingID, openAmount int64
	status                    string
	entry                     account.Entry // the hold's posting, to place a smaller one
}

func (s *Store) findAuth(ctx context.Context, tx *poolTx, originalID string, cardID int64) (openAuth, error) {
	var o openAuth
	var kind, channel string
	var postedAt int64
	err := tx.QueryRowContext(ctx, `
SELECT au.id, au.posting_id, au.open_amount, au.status,
       p.account_id, COALESCE(p.card_id, 0), p.kind, p.amount, p.description, p.merchant, p.mcc, p.city, p.country, p.channel, p.posted_at
  FROM authorisations au
  JOIN postings p ON p.id = au.posting_id
 WHERE au.message_id = $1 AND au.card_id = $2`+s.d.LockSuffix, originalID, cardID).Scan(
		&o.id, &o.postingID, &o.openAmount, &o.status,
		&o.entry.AccountID, &o.entry.CardID, &kind, &o.entry.Amount, &o.entry.Description, &o.entry.Merchant, &o.entry.MCC,
		&o.entry.City, &o.entry.Country, &channel, &postedAt)
	o.entry.Kind, o.entry.Channel, o.entry.PostedAt = account.Kind(kind), account.Channel(channel), fromMicros(postedAt)
	return o, err
}

// Reverse releases all or part of an authorisation's hold.
func (s *Store) Reverse(ctx context.Context, msg authorize.Message, ref authorize.CardRef, originalID string, amount int64) (authorize.Answer, error) {
	const op = "sqlstore.Reverse"
	return s.answerOnce(ctx, op, ref.AccountID, msg, func(tx *poolTx) (authorize.Answer, error) {
		a := authorize.Answer{MessageID: msg.ID, Code: authorize.Approved}
		if ref.CardID == 0 {
			a.Code = authorize.NoOriginal
		} else if err := s.lockAccount(ctx, tx, ref.AccountID); err != nil {
			return a, cp.E(op, cp.Internal, "", err)
		} else if o, err := s.findAuth(ctx, tx, originalID, ref.CardID); errors.Is(err, sql.ErrNoRows) {
			a.Code = authorize.NoOriginal
		} else if err != nil {
			return a, cp.E(op, cp.Internal, "", err)
		} else if o.status == "open" {
			if err := s.reduceHold(ctx, tx, o, amount, msg.ID); err != nil {
				return a, cp.E(op, cp.Internal, "", err)
			}
		}
		return a, nil
	})
}

// answerOnce answers msg with answer in a group-committed transaction on the
// account and stores the answer with the message, unless msg.ID was answered
// before: then it returns that answer (or Conflict) and answer is not called.
func (s *Store) answerOnce(ctx context.Context, op string, accountID int64, msg authorize.Message,
	answer func(tx *poolTx) (authorize.Answer, error)) (authorize.Answer, error) {
	var out authorize.Answer
	err := s.inBatch(ctx, accountID, func(tx *poolTx) error {
		a, done, err := s.storedAnswer(ctx, tx, op, msg)
		if done || err != nil {
			out = a
			return err
		}
		if a, err = answer(tx); err != nil {
			return err
		}
		out = a
		return s.storeAnswer(ctx, tx, op, msg, a)
	})
	return out, err
}

// reduceHold releases amount (0 or at least what is open: all) of an open hold. A
// partial release replaces the hold's posting by one for what stays held, under the
// key "auth:<original>:<reversal id>", so posted amounts never change.
func (s *Store) reduceHold(ctx context.Context, tx *poolTx, o openAuth, amount int64, reversalID string) error {
	if err := releasePosting(ctx, tx, o.postingID); err != nil {
		return err
	}
	if amount == 0 || amount >= o.openAmount {
		_, err := tx.ExecContext(ctx, `UPDATE authorisations SET status = 'reversed', open_amount = 0 WHERE id = $1`, o.id)
		return err
	}
	e := o.entry
	e.Amount = o.openAmount - amount
	e.Status = account.Pending
	var original string
	if err := tx.QueryRowContext(ctx, `SELECT message_id FROM authorisations WHERE id = $1`, o.id).Scan(&original); err != nil {
		return err
	}
	e.IdempotencyKey = "auth:" + original + ":" + reversalID
	id, err := s.insertPosting(ctx, tx, e)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `UPDATE authorisations SET posting_id = $1, open_amount = $2 WHERE id = $3`, id, e.Amount, o.id)
	return err
}

// Present posts a clearing or a refund and closes the authorisation it names.
func (s *Store) Present(ctx context.Context, msg authorize.Message, ref authorize.CardRef, originalID string, e account.Entry) (authorize.Answer, error) {
	const op = "sqlstore.Present"
	return s.answerOnce(ctx, op, ref.AccountID, msg, func(tx *poolTx) (authorize.Answer, error) {
		a := authorize.Answer{MessageID: msg.ID, Code: authorize.Approved}
		switch {
		case ref.CardID == 0:
			a.Code = authorize.NoSuchCard
		case e.Currency != ref.Currency:
			a.Code = authorize.InvalidTxn
		default:
			if err := s.present(ctx, tx, ref, originalID, e); err != nil {
				return a, cp.E(op, cp.Internal, "", err)
			}
		}
		return a, nil
	})
}

// present posts e and, if originalID names an open authorisation on the card,
// closes it and releases its hold.
func (s *Store) present(ctx context.Context, tx *poolTx, ref authorize.CardRef, originalID string, e account.Entry) error {
	if err := s.lockAccount(ctx, tx, ref.AccountID); err != nil {
		return err
	}
	if originalID != "" && e.Kind == account.Purchase {
		o, err := s.findAuth(ctx, tx, originalID, ref.CardID)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			// A clearing with an unknown authorisation still posts.
		case err != nil:
			return err
		case o.status == "open":
			if err := releasePosting(ctx, tx, o.postingID); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE authorisations SET status = 'cleared', open_amount = 0 WHERE id = $1`, o.id); err != nil {
				return err
			}
		}
	}
	_, err := s.insertPosting(ctx, tx, e)
	return err
}

// ExpireHolds releases the holds whose time is up.
func (s *Store) ExpireHolds(ctx context.Context, now time.Time) (int64, error) {
	const op = "sqlstore.ExpireHolds"
	var n int64
	err := s.inTx(ctx, op, func(tx *poolTx) error {
		_, err := tx.ExecContext(ctx, `
UPDATE postings SET status = 'released'
 WHERE status = 'pending'
   AND id IN (SELECT posting_id FROM authorisations WHERE status = 'open' AND expires_at <= $1)`, micros(now))
		if err != nil {
			return cp.E(op, cp.Internal, "", err)
		}
		res, err := tx.ExecContext(ctx, `
UPDATE authorisations SET status = 'expired', open_amount = 0 WHERE status = 'open' AND expires_at <= $1`, micros(now))
		if err != nil {
			return cp.E(op, cp.Internal, "", err)
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}
