package smtp

import (
	"github.com/protospec/protospec/reference/smtp"
	"github.com/protospec/protospec/targets/mutant"
)

// SMTP's mutants: the reference with one of its Faults (reference/smtp
// faults.go), started through the fault param, behind the transparent
// proxy. A mail server's defects are in what it does with the mail (an
// open relay, a 250 for a message it never stored, a Received field
// missing), which no proxy in front can make, so each mutant is a defect
// of the server itself.
func init() {
	fault := func(name string) map[string]string { return map[string]string{smtp.FaultParam: name} }
	mutant.Register(proto,
		mutant.Mutant{
			Name:   "open-relay",
			Doc:    "the reference accepts RCPT for any domain (fault open-relay): an open relay",
			Kills:  []string{"smtp/rfc5321/7.1/no-open-relay", "smtp/rfc5321/3.6.2/relay-refused-550"},
			Filter: "rfc5321:7.1 || rfc5321:3.6.2",
			Params: fault("open-relay"),
		},
		mutant.Mutant{
			Name:   "ack-before-durable",
			Doc:    "the reference answers 250 to the end of data and never stores the message (fault ack-before-durable)",
			Kills:  []string{"smtp/rfc5321/6.1/stored-at-250", "smtp/rfc5321/4.1.1.4/ok-reply-and-delivered"},
			Filter: "rfc5321:6.1 || rfc5321:4.1.1.4",
			Params: fault("ack-before-durable"),
		},
		mutant.Mutant{
			Name:   "bare-lf-end",
			Doc:    "the reference ends the message text at a line \".\" ended by a bare LF, <LF>.<LF> (fault bare-lf-end)",
			Kills:  []string{"smtp/rfc5321/4.1.1.4/bare-lf-dot-not-end"},
			Filter: "rfc5321:4.1.1.4",
			Params: fault("bare-lf-end"),
		},
		mutant.Mutant{
			Name:   "starttls-injection",
			Doc:    "the reference keeps what the client sent behind STARTTLS before the handshake and answers it inside TLS, CVE-2011-0411 (fault starttls-injection)",
			Kills:  []string{"smtp/rfc3207/6/no-command-injection"},
			Filter: "rfc3207:6",
			Params: fault("starttls-injection"),
		},
		mutant.Mutant{
			Name:   "no-received",
			Doc:    "the reference delivers messages without its Received field (fault no-received)",
			Kills:  []string{"smtp/rfc5321/4.4/received-inserted", "smtp/rfc5321/4.4/received-from-clause", "smtp/rfc5321/4.1.1.4/trace-record-at-top"},
			Filter: "rfc5321:4.4 || rfc5321:4.1.1.4",
			Params: fault("no-received"),
		},
		mutant.Mutant{
			Name:   "data-out-of-sequence",
			Doc:    "the reference answers 250 to DATA without a transaction with a recipient, instead of 503 (fault data-out-of-sequence)",
			Kills:  []string{"smtp/rfc5321/4.1.4/data-before-rcpt-503", "smtp/rfc5321/4.1.4/data-before-mail-503"},
			Filter: "rfc5321:4.1.4",
			Params: fault("data-out-of-sequence"),
		},
		mutant.Mutant{
			Name:   "multiline-no-hyphen",
			Doc:    "the reference sends every line of a multi-line reply with a space after the code, so that each reads as a reply of its own (fault multiline-no-hyphen)",
			Kills:  []string{"smtp/rfc5321/4.1.1.1/ehlo-multiline-form", "smtp/rfc5321/4.2/one-reply-per-command"},
			Filter: "rfc5321:4.1.1.1 || rfc5321:4.2",
			Params: fault("multiline-no-hyphen"),
		},
	)
}
