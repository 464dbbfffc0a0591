/**
 * One extension in one form, whichever way VoipNow writes it. Call Events give the extended number
 * (`yyyy*zzz`, e.g. `3515*101`), some senders with a host (`3515*101@pbx.example.com`) or as a SIP
 * URI (`sip:3515*101@host;transport=tls`); presence and PhoneCalls name it `3515*101`. The
 * normalized form is the extended number alone: no scheme, no host, no URI parameters, so a
 * pbx-event extension filter and a pbx-status query for one extension use the same text.
 * A short number (`101`) stays as it is: its prefix is not known here.
 */
export function extensionNumber(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  // One pass, no backtracking: an optional `<`, an optional scheme, then the user part.
  const user = /^\s*<?\s*(?:sips?:|tel:)?([^@;<>]*)/i.exec(raw)?.[1].trim();
  return user ? user : undefined;
}
