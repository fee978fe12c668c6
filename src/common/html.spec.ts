import { escapeHtml, html } from './html';

describe('html', () => {
  it('escapes every character that could end text or a quoted attribute', () => {
    expect(escapeHtml(`<script>alert("x") & 'y'</script>`)).toBe('&lt;script&gt;alert(&quot;x&quot;) &amp; &#39;y&#39;&lt;/script&gt;');
  });

  it('escapes interpolated text, in content and in attributes', () => {
    const hostile = `"><img src=x onerror=alert(1)>`;
    expect(html`<a href="${hostile}">${hostile}</a>`.text).toBe(
      '<a href="&quot;&gt;&lt;img src=x onerror=alert(1)&gt;">&quot;&gt;&lt;img src=x onerror=alert(1)&gt;</a>',
    );
  });

  it('keeps markup it made, alone or in a list, and leaves nothing for absent values', () => {
    const items = ['a<b', 'c&d'].map((item) => html`<li>${item}</li>`);
    // prettier-ignore
    const list = html`<ul>${items}</ul>`;
    expect(list.text).toBe('<ul><li>a&lt;b</li><li>c&amp;d</li></ul>');
    expect(html`<p>${list}${null}${undefined}${false}${0}</p>`.text).toBe(`<p>${list.text}0</p>`);
  });
});
