package statement

import (
	"bytes"
	_ "embed"
	"fmt"
	"io"
	"time"

	"github.com/signintech/gopdf"

	"github.com/cardportal/cardportal/account"
	"github.com/cardportal/cardportal/locale"
)

// dejaVuSans is DejaVu Sans (fonts/LICENSE: Bitstream Vera and public-domain
// changes), embedded so that a statement renders the same everywhere and covers every
// language's letters (å ä ö ñ) and currency signs (€ ₹ kr) whatever fonts the host
// has.
//
//go:embed fonts/DejaVuSans.ttf
var dejaVuSans []byte

// Issuer is the issuer a statement names: the demo issuer's, as the page layout has
// it, until issuers carry their own.
const Issuer = "Northwind Card Services"

// Document is a statement as it is printed: the figures, the posted transactions of
// its cycle and who it is for, in the reader's language.
type Document struct {
	Loc          locale.Locale
	Issuer       string // e.g. "Northwind Card Services"
	Product      string // e.g. "Gold Card"
	Holder       string // the basic card member's name
	Statement    Statement
	Transactions []account.Transaction
}

// Page geometry in points (A4).
const (
	pageW, pageH = 595.28, 841.89
	margin       = 48.0
	lineH        = 15.0
)

// WritePDF renders d as a PDF.
func WritePDF(w io.Writer, d Document) error {
	pdf := &gopdf.GoPdf{}
	pdf.Start(gopdf.Config{PageSize: *gopdf.PageSizeA4})
	pdf.SetInfo(gopdf.PdfInfo{Title: d.Loc.T("stmt.pdf.title"), Creator: "cardportal", CreationDate: d.Statement.CreatedAt})
	if err := pdf.AddTTFFontData("dejavu", dejaVuSans); err != nil {
		return fmt.Errorf("statement pdf font: %w", err)
	}
	p := &printer{pdf: pdf, loc: d.Loc}
	p.newPage()
	st, loc := d.Statement, d.Loc

	p.text(margin, 16, d.Issuer)
	p.y += 22
	p.text(margin, 13, loc.T("stmt.pdf.title")+" · "+d.Product)
	p.y += lineH + 4
	p.text(margin, 10, d.Holder)
	p.y += lineH
	p.text(margin, 10, loc.T("stmt.period", "from", loc.Date(st.PeriodStart), "to", loc.Date(st.ClosingDate)))
	p.y += lineH * 1.6

	rows := []struct{ label, value string }{
		{loc.T("stmt.opening"), loc.Money(st.Opening, st.Currency)},
		{loc.T("stmt.purchases"), loc.Money(st.Purchases, st.Currency)},
		{loc.T("stmt.credits"), loc.Money(st.Credits, st.Currency)},
		{loc.T("stmt.interest"), loc.Money(st.Interest, st.Currency)},
		{loc.T("stmt.closing"), loc.Money(st.Closing, st.Currency)},
		{loc.T("stmt.minimum"), loc.Money(st.MinimumDue, st.Currency)},
		{loc.T("stmt.due"), loc.Date(st.DueDate)},
	}
	for _, r := range rows {
		p.text(margin, 10, r.label)
		p.right(margin+300, 10, r.value)
		p.y += lineH
	}
	p.y += lineH
	p.text(margin, 12, loc.T("stmt.transactions"))
	p.y += lineH + 2
	p.header()
	if len(d.Transactions) == 0 {
		p.text(margin, 9, loc.T("stmt.none"))
	}
	for _, t := range d.Transactions {
		if p.y > pageH-margin-lineH {
			p.newPage()
			p.header()
		}
		p.text(margin, 9, loc.Date(t.PostedAt))
		p.text(margin+80, 9, p.fit(t.Text(loc), 9, 250))
		card := loc.T("tx.account")
		if t.CardID != 0 {
			card = "•••• " + t.CardLast
		}
		p.text(margin+340, 9, card)
		p.right(pageW-margin, 9, loc.Money(t.Amount, t.Currency))
		p.y += lineH - 2
	}
	if p.err != nil {
		return fmt.Errorf("statement pdf: %w", p.err)
	}
	_, err := pdf.WriteTo(w)
	return err
}

// RenderPDF is WritePDF into memory, so that a failure can still become an error
// page rather than half a download.
func RenderPDF(d Document) ([]byte, error) {
	var b bytes.Buffer
	if err := WritePDF(&b, d); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// printer keeps the cursor and the first error, so the layout above reads straight.
type printer struct {
	pdf  *gopdf.GoPdf
	loc  locale.Locale
	y    float64
	page int
	err  error
}

func (p *printer) newPage() {
	p.pdf.AddPage()
	p.page++
	p.y = margin
}

func (p *printer) header() {
	p.text(margin, 9, p.loc.T("tx.col.date"))
	p.text(margin+80, 9, p.loc.T("tx.col.description"))
	p.text(margin+340, 9, p.loc.T("tx.col.card"))
	p.right(pageW-margin, 9, p.loc.T("tx.col.amount"))
	// Text is set on its baseline, so the rule goes just under the header's.
	p.pdf.SetLineWidth(0.5)
	p.pdf.Line(margin, p.y+4, pageW-margin, p.y+4)
	p.y += lineH + 2
}

func (p *printer) font(size float64) {
	if err := p.pdf.SetFont("dejavu", "", size); err != nil && p.err == nil {
		p.err = err
	}
}

func (p *printer) text(x, size float64, s string) {
	p.font(size)
	p.pdf.SetXY(x, p.y)
	if err := p.pdf.Text(s); err != nil && p.err == nil {
		p.err = err
	}
}

// right writes s so that it ends at x: amounts line up on their last digit.
func (p *printer) right(x, size float64, s string) {
	p.font(size)
	w, err := p.pdf.MeasureTextWidth(s)
	if err != nil && p.err == nil {
		p.err = err
	}
	p.text(x-w, size, s)
}

// fit shortens s with an ellipsis until it is at most width wide.
func (p *printer) fit(s string, size, width float64) string {
	p.font(size)
	r := []rune(s)
	for n := len(r); n > 0; n-- {
		c := s
		if n < len(r) {
			c = string(r[:n]) + "…"
		}
		if w, err := p.pdf.MeasureTextWidth(c); err != nil || w <= width {
			return c
		}
	}
	return ""
}

// CSVName and PDFName are the download file names.
func CSVName(st Statement) string {
	return "statement-" + st.ClosingDate.Format(time.DateOnly) + ".csv"
}

// PDFName is the PDF's file name.
func PDFName(st Statement) string {
	return "statement-" + st.ClosingDate.Format(time.DateOnly) + ".pdf"
}

// WriteCSV writes the statement's transactions with account's CSV columns, the
// header row in the reader's language.
func WriteCSV(w io.Writer, loc locale.Locale, txs []account.Transaction) error {
	header := make([]string, len(account.CSVColumns))
	for i, c := range account.CSVColumns {
		header[i] = loc.T("tx.csv." + c)
	}
	cw, err := account.NewCSVWriter(w, loc, header)
	if err != nil {
		return err
	}
	for _, t := range txs {
		if err := cw.Write(t); err != nil {
			return err
		}
	}
	return cw.Flush()
}
