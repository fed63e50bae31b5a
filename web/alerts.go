package web

import (
	"net/http"
	"strconv"
	"strings"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/account"
	"github.com/cardportal/cardportal/alerts"
	"github.com/cardportal/cardportal/locale"
)

// Alert preferences (SPEC AC12): one form with a row per alert and a checkbox per
// channel, plus the threshold or lead time where the alert has one.

func init() { pageNames = append(pageNames, "alerts") }

func (s *server) alertRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /alerts", s.signedIn(s.showAlerts))
	mux.HandleFunc("POST /alerts", s.signedIn(s.saveAlerts))
}

type alertChannelBox struct {
	ID, Name, Label string
	Checked         bool
}

type alertRow struct {
	Kind     string
	Label    string
	Help     string
	Channels []alertChannelBox
	Amount   *field // the threshold, for the amount alerts
	Days     *field // the lead time, for payment due
}

type alertsView struct {
	Rows     []alertRow
	Security string
	Currency string
}

// alertCurrency is the currency thresholds are typed in: the member's account's.
func (s *server) alertCurrency(w http.ResponseWriter, r *http.Request) (string, bool) {
	sums, _, ok := s.memberSummaries(w, r)
	if !ok {
		return "", false
	}
	if len(sums) == 0 {
		return "USD", true
	}
	return sums[0].Currency, true
}

func alertsFields(loc locale.Locale, p alerts.Prefs, currency string, errs *formErrors, form map[string]string) alertsView {
	v := alertsView{Security: loc.T("alerts.security"), Currency: currency}
	for _, k := range alerts.Kinds {
		set := p.Get(k)
		row := alertRow{Kind: string(k), Label: loc.T("alerts.kind." + string(k)), Help: loc.T("alerts.kind." + string(k) + ".help")}
		for _, c := range []struct {
			ch alerts.Channel
			on bool
		}{{alerts.Email, set.Email}, {alerts.SMS, set.SMS}, {alerts.Push, set.Push}} {
			name := string(k) + "." + string(c.ch)
			on := c.on
			if form != nil {
				_, on = form[name]
			}
			row.Channels = append(row.Channels, alertChannelBox{ID: strings.ReplaceAll(name, ".", "-"), Name: name,
				Label: loc.T("alerts.channel." + string(c.ch)), Checked: on})
		}
		if k.HasAmount() {
			id := string(k) + ".amount"
			val := account.PlainAmount(set.Amount, currency)
			if form != nil {
				val = form[id]
			}
			row.Amount = &field{ID: id, Type: "text", Label: loc.T("alerts.amount", "currency", currency), InputMode: "decimal",
				MaxLength: 16, Required: true, Value: val, Errors: errs.byID[id], SummaryLabel: row.Label}
		}
		if k.HasDays() {
			id := string(k) + ".days"
			val := strconv.Itoa(set.Days)
			if form != nil {
				val = form[id]
			}
			row.Days = &field{ID: id, Type: "number", Label: loc.T("alerts.days"), InputMode: "numeric", MaxLength: 2,
				Required: true, Value: val, Errors: errs.byID[id], SummaryLabel: row.Label}
		}
		v.Rows = append(v.Rows, row)
	}
	return v
}

// showAlerts is GET /alerts.
func (s *server) showAlerts(w http.ResponseWriter, r *http.Request) {
	currency, ok := s.alertCurrency(w, r)
	if !ok {
		return
	}
	sess, _ := sessionFrom(r.Context())
	p, err := s.Alerts.Prefs(r.Context(), sess.MemberID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	loc := s.locale(r)
	pg := s.newPage(r, loc, "alerts.title")
	pg.Nav = "account"
	if r.URL.Query().Get("done") == "1" {
		pg.Flash = loc.T("alerts.saved")
	}
	pg.Data = alertsFields(loc, p, currency, newFormErrors(loc), nil)
	s.render(w, r, http.StatusOK, "alerts", pg)
}

// saveAlerts is POST /alerts: every alert's row at once. An unticked box is absent
// from the form, so absence means off.
func (s *server) saveAlerts(w http.ResponseWriter, r *http.Request) {
	form, ok := s.readForm(w, r)
	if !ok {
		return
	}
	currency, ok := s.alertCurrency(w, r)
	if !ok {
		return
	}
	loc := s.locale(r)
	errs := newFormErrors(loc)
	settings := map[alerts.Kind]alerts.Setting{}
	flat := map[string]string{}
	for k, v := range form {
		flat[k] = v[0]
	}
	for _, k := range alerts.Kinds {
		_, e := form[string(k)+".email"]
		_, sms := form[string(k)+".sms"]
		_, push := form[string(k)+".push"]
		set := alerts.Setting{Email: e, SMS: sms, Push: push}
		if k.HasAmount() {
			id := string(k) + ".amount"
			amt, err := account.ParseAmount(form.Get(id), currency)
			if err != nil || amt < 0 {
				errs.add(id, "alerts.amount.invalid")
			}
			set.Amount = amt
		}
		if k.HasDays() {
			id := string(k) + ".days"
			d, err := strconv.Atoi(strings.TrimSpace(form.Get(id)))
			if err != nil {
				errs.add(id, "alerts.days.invalid")
			}
			set.Days = d
		}
		settings[k] = set
		// The same range checks as the service's, so every problem shows at once.
		for _, f := range alerts.Validate(k, set) {
			if _, shown := errs.byID[f.Field]; !shown {
				errs.add(f.Field, f.Msg)
			}
		}
	}
	sess, _ := sessionFrom(r.Context())
	status := http.StatusUnprocessableEntity
	pg := s.newPage(r, loc, "alerts.title")
	pg.Nav = "account"
	if errs.empty() {
		_, err := s.Alerts.SetPrefs(r.Context(), sess.MemberID, settings)
		if err == nil {
			redirect(w, r, "/alerts?done=1")
			return
		}
		if cp.ErrorKind(err) == cp.Internal || cp.ErrorKind(err) == cp.NotFound {
			s.fail(w, r, err)
			return
		}
		errs.addAll(cp.ErrorFields(err), func(f string) string { return f })
	}
	v := alertsFields(loc, alerts.Prefs{}, currency, errs, flat)
	var fields []field
	for _, row := range v.Rows {
		if row.Amount != nil {
			fields = append(fields, *row.Amount)
		}
		if row.Days != nil {
			fields = append(fields, *row.Days)
		}
	}
	pg.Summary = errs.summary(fields...)
	pg.Data = v
	s.render(w, r, status, "alerts", pg)
}
