"""The Help screen's text in English, Russian and Kazakh: what each badge means, and the keys."""

from __future__ import annotations

HELP = {
    "en": """[b]Badges[/b] — every bulletin carries its author's signature; the badge says what it proves:
  [bold green]✔ TRUSTED[/]      signed by a key you trust, or by one it certified (the name comes from the certificate)
  [bold yellow]? UNKNOWN KEY[/]  the signature is valid, but nobody you trust vouches for this key — treat it as rumour
  [italic]… PENDING[/]      the author's key has not arrived yet; it is checked when it does
  [bold red]✖ REVOKED[/]      signed by a key its owner or issuer withdrew — do not trust it
  [bold white on red]✖ FORGED[/]       the signature does not match: someone altered or faked it
A name shown as "claims: X" is what an unknown key says about itself. Anyone can claim any name.
Active safety alerts from trusted authors stay pinned at the top, most severe first, until they expire.
Feed rows show: badge, kind/severity, author, language, area; then the time the author wrote it
(their clock may be wrong) and ↓ the time it reached this node, and the first line.

[b]Keys[/b]
  f feed · c compose · y keys & trust · m mesh · ? help · g UI language · h high contrast · q quit
  ctrl+p command palette (every action by name) · escape goes back
  Feed: ↑↓ pgup pgdn home move · enter opens · / search · t trusted only · k kind · l language
        s minimum severity · x clear filters
  Bulletin: ↑↓ choose a linked correction, enter opens it
  Compose: tab moves between fields · ctrl+s signs and sends (asks for the passphrase if locked)
  Keys & trust: paste a share string, check its fingerprint, then "Trust this key"; r removes a root;
  F9 wipes this node (keys, bulletins, settings) after one question""",
    "ru": """[b]Значки[/b] — каждый бюллетень подписан автором; значок говорит, что доказывает подпись:
  [bold green]✔ ДОВЕРЕН[/]       подписан ключом, которому вы доверяете, или заверенным им ключом
  [bold yellow]? НЕИЗВ. КЛЮЧ[/]   подпись верна, но за ключ никто из доверенных не ручается — считайте слухом
  [italic]… ОЖИДАЕТ[/]       ключ автора ещё не получен; проверка будет, когда он придёт
  [bold red]✖ ОТОЗВАН[/]       ключ отозван владельцем или выдавшим — не доверяйте
  [bold white on red]✖ ПОДДЕЛКА[/]      подпись не совпадает: текст изменён или подделан
«называет себя: X» — так неизвестный ключ называет сам себя. Назваться может кто угодно.
Действующие тревоги от доверенных авторов закреплены сверху, самые опасные первыми, до истечения.
В строке: значок, вид/важность, автор, язык, район; время автора (его часы могут врать),
↓ время получения здесь, первая строка текста.

[b]Клавиши[/b]
  f лента · c написать · y ключи · m сеть · ? справка · g язык · h контраст · q выход
  ctrl+p палитра команд · escape — назад
  Лента: ↑↓ pgup pgdn home · enter — открыть · / поиск · t только доверенные · k вид · l язык
         s важность · x сбросить фильтры
  Бюллетень: ↑↓ выбрать связанное исправление, enter — открыть
  Написать: tab — следующее поле · ctrl+s — подписать и отправить (спросит пароль)
  Ключи: вставьте строку ключа, сверьте отпечаток, «Доверять ключу»; r — удалить;
  F9 — стереть узел (ключи, бюллетени, настройки) после одного вопроса""",
    "kk": """[b]Белгілер[/b] — әр бюллетень авторының қолтаңбасымен келеді; белгі оның нені дәлелдейтінін айтады:
  [bold green]✔ СЕНІМДІ[/]        сіз сенетін кілтпен немесе ол куәландырған кілтпен қол қойылған
  [bold yellow]? БЕЙТАНЫС КІЛТ[/]  қолтаңба дұрыс, бірақ бұл кілтке сенімді ешкім кепіл емес — қауесет деп санаңыз
  [italic]… КҮТУДЕ[/]         автордың кілті әлі келген жоқ; келгенде тексеріледі
  [bold red]✖ КЕРІ АЛЫНҒАН[/]   кілтті иесі немесе берушісі кері алған — сенбеңіз
  [bold white on red]✖ ЖАЛҒАН[/]         қолтаңба сәйкес емес: мәтін өзгертілген немесе жалған
«өзін атайды: X» — бейтаныс кілттің өзі туралы айтқаны. Кез келген адам кез келген атпен атала алады.
Сенімді авторлардың белсенді дабылдары мерзімі біткенше жоғарыда тұрады, ең қауіптісі бірінші.
Жолда: белгі, түрі/маңыздылығы, автор, тіл, аймақ; автор уақыты (сағаты қате болуы мүмкін),
↓ осында алынған уақыт, мәтіннің бірінші жолы.

[b]Пернелер[/b]
  f лента · c жазу · y кілттер · m желі · ? анықтама · g тіл · h контраст · q шығу
  ctrl+p командалар палитрасы · escape — артқа
  Лента: ↑↓ pgup pgdn home · enter — ашу · / іздеу · t тек сенімді · k түрі · l тіл
         s маңыздылық · x сүзгілерді тазалау
  Бюллетень: ↑↓ байланысты түзетуді таңдау, enter — ашу
  Жазу: tab — келесі өріс · ctrl+s — қол қойып жіберу (құпия сөзді сұрайды)
  Кілттер: кілт жолын қойып, саусақ ізін салыстырып, «Кілтке сену»; r — жою;
  F9 — түйінді өшіру (кілттер, бюллетеньдер, баптаулар), бір сұрақтан кейін""",
}
