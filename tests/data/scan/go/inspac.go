// A sensor gateway's insp.ac client (a fixture for the scan tests: never built).
package inspac

import (
	"fmt"
	"net/http"
)

const baseURL = "https://api.insp.ac/v1"

type Client struct {
	hc *http.Client
}

func (c *Client) Reading(id string) (*http.Response, error) {
	return c.hc.Get(baseURL + "/sensor-readings/" + id)
}

func (c *Client) Ingest(body string) (*http.Response, error) {
	req, err := http.NewRequest(http.MethodPost, baseURL+"/sensor-readings", nil)
	if err != nil {
		return nil, err
	}
	return c.hc.Do(req)
}

func (c *Client) Unsubscribe(id string) error {
	req, _ := http.NewRequest(http.MethodDelete, fmt.Sprintf("%s/integrations/subscriptions/%s", baseURL, id), nil)
	_, err := c.hc.Do(req)
	return err
}

func (c *Client) Raw(method, url string) (*http.Request, error) {
	return http.NewRequest(method, url, nil)
}
