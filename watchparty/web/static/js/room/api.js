// The HTTP API (SPEC R10) from the room page: the session cookie plus the CSRF header.

// Resolves to {status, body} (body null when there is none); rejects when the server does not answer.
export function requestJson(page, method, path, body) {
  const headers = {Accept: "application/json", "X-CSRFToken": page.csrfToken};
  const options = {method: method, credentials: "same-origin", headers: headers};
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  return fetch(path, options).then((response) => {
    if (response.status === 204) {
      return {status: 204, body: null};
    }
    return response.json().then(
      (json) => ({status: response.status, body: json}),
      () => ({status: response.status, body: null})
    );
  });
}

// The message of an R10 error answer, or the fallback.
export function errorMessage(result, fallback) {
  const error = result && result.body && result.body.error;
  return (error && typeof error.message === "string" && error.message) || fallback;
}

export function roomPath(page) {
  return "/api/rooms/" + encodeURIComponent(page.code) + "/";
}
