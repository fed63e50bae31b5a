// Package smtptest runs a small SMTP server inside a test, on a loopback port, and
// records what arrives: the real counterpart a mail transport is tested against, as
// net/http/httptest is for HTTP clients. It speaks enough of RFC 5321 for a client
// library: EHLO/HELO, optional STARTTLS, AUTH PLAIN, MAIL FROM, RCPT TO, DATA, RSET,
// NOOP and QUIT. It is not a mail server: nothing is relayed.
package smtptest

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"fmt"
	"math/big"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"
)

// Mail is one message the server accepted.
type Mail struct {
	From     string
	To       []string
	Data     []byte // the message as sent, headers and body, CRLF line ends
	User     string // the authenticated user name, if any
	UsedTLS  bool   // whether the session had switched to TLS
	Received time.Time
}

// Parse reads the message's headers and body.
func (m Mail) Parse() (*mail.Message, error) {
	return mail.ReadMessage(strings.NewReader(string(m.Data)))
}

// Options configure a Server.
type Options struct {
	// Username and Password, when set, are required through AUTH PLAIN before MAIL.
	Username, Password string
	// StartTLS offers STARTTLS with a self-signed certificate for 127.0.0.1; the
	// client must trust Server.RootCAs.
	StartTLS bool
	// RejectRcpt, when it returns true for an address, refuses it with 550.
	RejectRcpt func(addr string) bool
}

// Server is a running test SMTP server.
type Server struct {
	Addr    string // host:port
	Host    string
	Port    int
	RootCAs *x509.CertPool // trusts the STARTTLS certificate

	t    testing.TB
	opts Options
	tls  *tls.Config

	mu    sync.Mutex
	ln    net.Listener
	mails []Mail
	wg    sync.WaitGroup
}

// NewServer starts a server on 127.0.0.1 and a free port, stopped when the test ends.
func NewServer(t testing.TB, opts Options) *Server {
	t.Helper()
	s := &Server{t: t, opts: opts}
	if opts.StartTLS {
		s.tls, s.RootCAs = selfSigned(t)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("smtptest: %v", err)
	}
	s.Addr = ln.Addr().String()
	s.Host = "127.0.0.1"
	s.Port = ln.Addr().(*net.TCPAddr).Port
	s.serve(ln)
	t.Cleanup(s.Stop)
	return s
}

// Stop closes the listener, so that connections are refused as in an outage, and
// waits for open sessions to end.
func (s *Server) Stop() {
	s.mu.Lock()
	ln := s.ln
	s.ln = nil
	s.mu.Unlock()
	if ln != nil {
		ln.Close()
	}
	s.wg.Wait()
}

// Start listens again on the same address after Stop: the outage is over.
func (s *Server) Start() {
	s.t.Helper()
	ln, err := net.Listen("tcp", s.Addr)
	if err != nil {
		s.t.Fatalf("smtptest: listen again on %s: %v", s.Addr, err)
	}
	s.serve(ln)
}

// Mails returns what has arrived so far.
func (s *Server) Mails() []Mail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Mail(nil), s.mails...)
}

func (s *Server) serve(ln net.Listener) {
	s.mu.Lock()
	s.ln = ln
	s.mu.Unlock()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer c.Close()
				c.SetDeadline(time.Now().Add(30 * time.Second))
				s.session(c)
			}()
		}
	}()
}

// session runs one SMTP conversation.
func (s *Server) session(c net.Conn) {
	r := bufio.NewReader(c)
	reply := func(format string, args ...any) { fmt.Fprintf(c, format+"\r\n", args...) }
	var (
		cur     Mail
		authed  = s.opts.Username == ""
		usedTLS bool
	)
	reply("220 smtptest ready")
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO":
			exts := []string{"250-smtptest", "250-8BITMIME", "250-SMTPUTF8"}
			if s.tls != nil && !usedTLS {
				exts = append(exts, "250-STARTTLS")
			}
			if s.opts.Username != "" {
				exts = append(exts, "250-AUTH PLAIN")
			}
			exts = append(exts, "250 HELP")
			fmt.Fprint(c, strings.Join(exts, "\r\n")+"\r\n")
		case "HELO":
			reply("250 smtptest")
		case "STARTTLS":
			if s.tls == nil || usedTLS {
				reply("502 not offered")
				continue
			}
			reply("220 go ahead")
			tc := tls.Server(c, s.tls)
			if err := tc.Handshake(); err != nil {
				return
			}
			c, r, usedTLS = tc, bufio.NewReader(tc), true
			cur, authed = Mail{}, s.opts.Username == ""
		case "AUTH":
			mech, resp, _ := strings.Cut(arg, " ")
			if !strings.EqualFold(mech, "PLAIN") {
				reply("504 unrecognised mechanism")
				continue
			}
			if resp == "" {
				reply("334 ")
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				resp = strings.TrimRight(l, "\r\n")
			}
			b, err := base64.StdEncoding.DecodeString(resp)
			parts := strings.Split(string(b), "\x00")
			if err != nil || len(parts) != 3 || parts[1] != s.opts.Username || parts[2] != s.opts.Password {
				reply("535 5.7.8 authentication failed")
				continue
			}
			authed, cur.User = true, parts[1]
			reply("235 2.7.0 authenticated")
		case "MAIL":
			if !authed {
				reply("530 5.7.0 authentication required")
				continue
			}
			cur.From = addrArg(arg, "FROM:")
			reply("250 ok")
		case "RCPT":
			to := addrArg(arg, "TO:")
			if s.opts.RejectRcpt != nil && s.opts.RejectRcpt(to) {
				reply("550 5.1.1 mailbox unavailable")
				continue
			}
			cur.To = append(cur.To, to)
			reply("250 ok")
		case "DATA":
			if cur.From == "" || len(cur.To) == 0 {
				reply("503 need MAIL and RCPT first")
				continue
			}
			reply("354 end with <CRLF>.<CRLF>")
			var data strings.Builder
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" || l == ".\n" {
					break
				}
				data.WriteString(strings.TrimPrefix(l, ".")) // undo dot-stuffing
			}
			cur.Data, cur.UsedTLS, cur.Received = []byte(data.String()), usedTLS, time.Now()
			s.mu.Lock()
			s.mails = append(s.mails, cur)
			s.mu.Unlock()
			cur = Mail{User: cur.User}
			reply("250 ok: queued")
		case "RSET":
			cur = Mail{User: cur.User}
			reply("250 ok")
		case "NOOP":
			reply("250 ok")
		case "QUIT":
			reply("221 bye")
			return
		default:
			reply("502 command not implemented")
		}
	}
}

// addrArg takes the address out of "FROM:<a@b> SIZE=..." or "TO:<a@b>".
func addrArg(arg, prefix string) string {
	if len(arg) >= len(prefix) && strings.EqualFold(arg[:len(prefix)], prefix) {
		arg = arg[len(prefix):]
	}
	arg = strings.TrimSpace(arg)
	if i := strings.IndexByte(arg, ' '); i >= 0 {
		arg = arg[:i]
	}
	return strings.Trim(arg, "<>")
}

// selfSigned makes a certificate for 127.0.0.1 and a pool that trusts it.
func selfSigned(t testing.TB) (*tls.Config, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "smtptest"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:     []string{"localhost"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}, MinVersion: tls.VersionTLS12}, pool
}
