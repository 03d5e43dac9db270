export interface HttpAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Parses the HTTP/1.1 responses a socket received, in order (Content-Length bodies only, as this app sends). */
export function parseResponses(raw: Buffer): HttpAnswer[] {
  const answers: HttpAnswer[] = [];
  let offset = 0;
  while (offset < raw.length) {
    const headEnd = raw.indexOf('\r\n\r\n', offset);
    if (headEnd < 0) throw new Error(`Truncated response head: ${raw.subarray(offset).toString()}`);
    const [statusLine, ...lines] = raw.subarray(offset, headEnd).toString('latin1').split('\r\n');
    const headers = Object.fromEntries(
      lines.map((line) => [
        line.slice(0, line.indexOf(':')).toLowerCase(),
        line.slice(line.indexOf(':') + 1).trim(),
      ]),
    );
    const length = Number(headers['content-length']);
    if (!Number.isInteger(length)) throw new Error(`No Content-Length in ${statusLine}`);
    const bodyStart = headEnd + 4;
    if (bodyStart + length > raw.length) throw new Error(`Truncated body after ${statusLine}`);
    answers.push({
      status: Number(statusLine.split(' ')[1]),
      headers,
      body: raw.subarray(bodyStart, bodyStart + length).toString('utf8'),
    });
    offset = bodyStart + length;
  }
  return answers;
}
