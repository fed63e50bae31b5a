package api

import (
	"net/http"
	"strconv"
	"time"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/alerts"
	"github.com/cardportal/cardportal/disputes"
	"github.com/cardportal/cardportal/identity"
	"github.com/cardportal/cardportal/issuer"
	"github.com/cardportal/cardportal/locale"
)

// Personal details (SPEC AC11), alert preferences (AC12) and disputes (AC13), and
// the User ID reminder by email, name and billing postcode (ID8). Ids in paths are
// the member's own: another member's transaction or dispute is 404 like one that does
// not exist.

type addressJSON struct {
	Line1    string `json:"line1"`
	Line2    string `json:"line2"`
	City     string `json:"city"`
	Region   string `json:"region"`
	Postcode string `json:"postcode"`
	Country  string `json:"country"`
}

func newAddressJSON(a issuer.Address) *addressJSON {
	if a.IsZero() {
		return nil
	}
	return &addressJSON{Line1: a.Line1, Line2: a.Line2, City: a.City, Region: a.Region, Postcode: a.Postcode, Country: a.Country}
}

type detailsJSON struct {
	Name             string       `json:"name"`
	Address          *addressJSON `json:"address"`
	AddressUpdatedAt *string      `json:"address_updated_at"`
	Email            string       `json:"email"`
	Phone            string       `json:"phone"`
}

// personalDetails is GET /api/v1/details.
func (s *server) personalDetails(c *call) (int, any, error) {
	h, err := s.details.Holder(c.r.Context(), c.sess.MemberID)
	if err != nil {
		return 0, nil, err
	}
	j := detailsJSON{Name: h.Name, Address: newAddressJSON(h.Address), Email: h.Email, Phone: h.Phone}
	if !h.UpdatedAt.IsZero() {
		t := h.UpdatedAt.UTC().Format(time.RFC3339)
		j.AddressUpdatedAt = &t
	}
	return http.StatusOK, j, nil
}

type addressChangeRequest struct {
	Password string `json:"password"`
	addressJSON
}

// changeAddress is PUT /api/v1/details/address: the new address with the password.
func (s *server) changeAddress(c *call) (int, any, error) {
	var in addressChangeRequest
	if err := decode(c, &in); err != nil {
		return 0, nil, err
	}
	a, err := s.details.ChangeAddress(c.r.Context(), c.sess.MemberID, in.Password, issuer.Address{
		Line1: in.Line1, Line2: in.Line2, City: in.City, Region: in.Region, Postcode: in.Postcode, Country: in.Country,
	}, c.src)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, newAddressJSON(a), nil
}

type forgotUserIDByEmailRequest struct {
	Email    string `json:"email"`
	Name     string `json:"name"`
	Postcode string `json:"postcode"`
}

// forgotUserIDByEmail is POST /api/v1/recovery/user-id/email.
func (s *server) forgotUserIDByEmail(c *call) (int, any, error) {
	var in forgotUserIDByEmailRequest
	if err := decode(c, &in); err != nil {
		return 0, nil, err
	}
	err := s.ident.ForgotUserIDByEmail(c.r.Context(), identity.ForgotUserIDByEmailRequest{Email: in.Email, Name: in.Name, Postcode: in.Postcode}, c.src)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusAccepted, recoveryStarted{Message: c.loc.T("recovery.userid.sent")}, nil
}

type alertSettingJSON struct {
	Email  bool   `json:"email"`
	SMS    bool   `json:"sms"`
	Push   bool   `json:"push"`
	Amount *int64 `json:"amount,omitempty"`
	Days   *int   `json:"days,omitempty"`
}

type alertPrefsJSON struct {
	Alerts map[string]alertSettingJSON `json:"alerts"`
	// Security notices are always on, on every channel; said so the app can show it.
	Security string `json:"security"`
}

func newAlertPrefsJSON(p alerts.Prefs) alertPrefsJSON {
	j := alertPrefsJSON{Alerts: map[string]alertSettingJSON{}, Security: "always_on"}
	for _, k := range alerts.Kinds {
		v := p.Get(k)
		a := alertSettingJSON{Email: v.Email, SMS: v.SMS, Push: v.Push}
		if k.HasAmount() {
			a.Amount = &v.Amount
		}
		if k.HasDays() {
			a.Days = &v.Days
		}
		j.Alerts[string(k)] = a
	}
	return j
}

// alertPrefs is GET /api/v1/alerts: every alert with its setting (defaults where the
// member chose nothing).
func (s *server) alertPrefs(c *call) (int, any, error) {
	p, err := s.alerts.Prefs(c.r.Context(), c.sess.MemberID)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, newAlertPrefsJSON(p), nil
}

type alertPrefsRequest struct {
	Alerts map[string]alertSettingJSON `json:"alerts"`
}

// setAlertPrefs is PUT /api/v1/alerts: the alerts named are replaced, others kept.
// A threshold or lead time left out keeps its current value.
func (s *server) setAlertPrefs(c *call) (int, any, error) {
	var in alertPrefsRequest
	if err := decode(c, &in); err != nil {
		return 0, nil, err
	}
	cur, err := s.alerts.Prefs(c.r.Context(), c.sess.MemberID)
	if err != nil {
		return 0, nil, err
	}
	settings := map[alerts.Kind]alerts.Setting{}
	for k, v := range in.Alerts {
		kind := alerts.Kind(k)
		set := cur.Get(kind)
		set.Email, set.SMS, set.Push = v.Email, v.SMS, v.Push
		if v.Amount != nil {
			set.Amount = *v.Amount
		}
		if v.Days != nil {
			set.Days = *v.Days
		}
		settings[kind] = set
	}
	p, err := s.alerts.SetPrefs(c.r.Context(), c.sess.MemberID, settings)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, newAlertPrefsJSON(p), nil
}

type disputeJSON struct {
	ID                int64           `json:"id"`
	Status            string          `json:"status"`
	Reason            string          `json:"reason"`
	Detail            string          `json:"detail"`
	Amount            int64           `json:"amount"`
	Currency          string          `json:"currency"`
	ProvisionalCredit bool            `json:"provisional_credit"`
	CreditReversed    bool            `json:"credit_reversed"`
	CreatedAt         string          `json:"created_at"`
	UpdatedAt         string          `json:"updated_at"`
	Transaction       transactionJSON `json:"transaction"`
}

func newDisputeJSON(loc locale.Locale, d disputes.Dispute) disputeJSON {
	return disputeJSON{ID: d.ID, Status: string(d.Status), Reason: string(d.Reason), Detail: d.Detail, Amount: d.Amount,
		Currency: d.Currency, ProvisionalCredit: d.CreditPostingID != 0, CreditReversed: d.ReversalPostingID != 0,
		CreatedAt: d.CreatedAt.UTC().Format(time.RFC3339), UpdatedAt: d.UpdatedAt.UTC().Format(time.RFC3339),
		Transaction: newTransactionJSON(loc, d.Transaction)}
}

type disputeListJSON struct {
	Disputes []disputeJSON `json:"disputes"`
}

// listDisputes is GET /api/v1/disputes.
func (s *server) listDisputes(c *call) (int, any, error) {
	ds, err := s.disputes.List(c.r.Context(), c.sess.MemberID)
	if err != nil {
		return 0, nil, err
	}
	out := disputeListJSON{Disputes: []disputeJSON{}}
	for _, d := range ds {
		out.Disputes = append(out.Disputes, newDisputeJSON(c.loc, d))
	}
	return http.StatusOK, out, nil
}

// servicingID reads {id}; anything but a positive integer is an id no member has.
func servicingID(c *call, op string) (int64, error) {
	id, err := strconv.ParseInt(c.r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, cp.E(op, cp.NotFound, "", nil)
	}
	return id, nil
}

// getDispute is GET /api/v1/disputes/{id}.
func (s *server) getDispute(c *call) (int, any, error) {
	id, err := servicingID(c, "api.getDispute")
	if err != nil {
		return 0, nil, err
	}
	d, err := s.disputes.Dispute(c.r.Context(), c.sess.MemberID, id)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, newDisputeJSON(c.loc, d), nil
}

type transactionDisputesJSON struct {
	Transaction transactionJSON `json:"transaction"`
	Disputable  bool            `json:"disputable"`
	Disputes    []disputeJSON   `json:"disputes"`
}

// transactionDisputes is GET /api/v1/transactions/{id}/disputes: the transaction,
// whether it can be disputed now, and its disputes.
func (s *server) transactionDisputes(c *call) (int, any, error) {
	id, err := servicingID(c, "api.transactionDisputes")
	if err != nil {
		return 0, nil, err
	}
	tx, ds, err := s.disputes.Transaction(c.r.Context(), c.sess.MemberID, id)
	if err != nil {
		return 0, nil, err
	}
	ok, _ := disputes.Disputable(tx, s.now())
	out := transactionDisputesJSON{Transaction: newTransactionJSON(c.loc, tx), Disputable: ok, Disputes: []disputeJSON{}}
	for _, d := range ds {
		out.Disputes = append(out.Disputes, newDisputeJSON(c.loc, d))
		if !d.Status.Resolved() {
			out.Disputable = false
		}
	}
	return http.StatusOK, out, nil
}

type disputeRequest struct {
	Reason string `json:"reason"`
	Detail string `json:"detail"`
}

// openDispute is POST /api/v1/transactions/{id}/disputes.
func (s *server) openDispute(c *call) (int, any, error) {
	id, err := servicingID(c, "api.openDispute")
	if err != nil {
		return 0, nil, err
	}
	var in disputeRequest
	if err := decode(c, &in); err != nil {
		return 0, nil, err
	}
	d, err := s.disputes.Open(c.r.Context(), c.sess.MemberID, id, disputes.Request{Reason: in.Reason, Detail: in.Detail}, c.src)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, newDisputeJSON(c.loc, d), nil
}
