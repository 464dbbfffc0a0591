import { text } from '../../core/fields';

/**
 * The recording URL of a CDR callback, whichever format the account sends: `recordurl` (newer
 * accounts) when it is set, else one built from `downloadip` + `recordfilename` (older accounts,
 * which send no `recordurl`). Undefined when the call was not recorded: `recordurl` and
 * `recordfilename` both empty, as in the vendor's examples of an unanswered call.
 */
export function cdrRecordingUrl(f: Record<string, unknown>): string | undefined {
  const url = text(f.recordurl);
  if (url) return url;
  const file = text(f.recordfilename);
  if (!file) return undefined;
  if (/^https?:\/\//i.test(file)) return file;
  const host = text(f.downloadip);
  return host ? recordingUrlFromDownloadIp(host, file) : undefined;
}

/** `downloadip` as the vendor documents it, an IP address (or a host name), optionally with a port. */
const DOWNLOAD_HOST = /^(?:[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/**
 * `http://{downloadip}/{recordfilename}` [unverified]: the vendor documents the two fields
 * ("recording download IP", "recording file name") but not how they make a URL. This is the form
 * its recording-link service answers with (`App.Sip_Cdr.GetRecodeFile`: the API host, '/', the
 * file name). Each path segment of the file name is percent-encoded; a `downloadip` that already
 * names a scheme is used as the base. Undefined when either part cannot be part of a URL (a host
 * with a path or user info, a file name with `.` / `..` segments or control characters).
 */
export function recordingUrlFromDownloadIp(downloadIp: string, recordFileName: string): string | undefined {
  const scheme = /^(https?):\/\//i.exec(downloadIp);
  const host = (scheme ? downloadIp.slice(scheme[0].length) : downloadIp).replace(/\/+$/, '');
  if (!DOWNLOAD_HOST.test(host)) return undefined;
  if (/\p{Cc}/u.test(recordFileName)) return undefined;
  const segments = recordFileName.split('/').filter((s) => s !== '');
  if (!segments.length || segments.some((s) => s === '.' || s === '..')) return undefined;
  return `${scheme ? scheme[1].toLowerCase() : 'http'}://${host}/${segments.map(encodeURIComponent).join('/')}`;
}
