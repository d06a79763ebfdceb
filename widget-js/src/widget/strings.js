/*
 * Baton visitor widget (docs: ../../README.md), served after protocol.js and render.js:
 *   <script async src="https://HOST/widget.js" data-site="SITE"></script>
 * Mounts under one open shadow root. Network text goes in as text nodes only; the Markdown
 * renderer builds whitelisted elements and links http(s)/mailto URLs only.
 * Its files (../../bundles.json) share one scope: this one opens it, boot.js closes it.
 */
(function (root) {
  'use strict';

  // ---- widget/strings.js ---------------------------------------------------------------

  /** Message keys; each locale below lists its strings in this order, one per line. */
  var KEYS = ['open', 'close', 'message', 'placeholder', 'send', 'human', 'ai', 'title', 'bot',
    'reconnecting', 'queue', 'wait', 'waiting', 'typing', 'ended', 'end',
    'newChat', 'noAgent', 'email', 'left', 'rate', 'stars', 'thanks', 'sources', 'unread',
    'agentTitle', 'newMsgs', 'endAsk', 'endYes', 'cancel', 'leaveSend', 'labels', 'comment', 'rateSend',
    'attach', 'tooBig', 'badType', 'upFail', 'shut',
    'transcript', 'trouble', 'confirm'];

  var STRINGS = {
    en: `Open chat
Close chat
Message
Write a message…
Send
Talk to a person
You are chatting with an AI assistant.
Chat with us
Assistant
Reconnecting…
You are number {n} in line.
Estimated wait: about {m} min.
Waiting for a person to join…
{name} is typing…
This chat has ended.
End chat
Start a new chat
Nobody is available right now. Leave a message and we will reply by email.
Your email
Thanks! We will reply by email.
How would you rate this chat?
{n} out of 5
Thanks for your feedback!
Sources
{n} unread messages
Chatting with {name}
New messages
End this chat?
Yes, end it
Cancel
Leave message
Terrible|Bad|OK|Good|Great
Add a comment (optional)
Send rating
Attach a file
{name}: larger than {max}.
{name}: this file type is not accepted.
{name} was not sent. Try again.
Close
Email me this conversation
We are having trouble. Retrying…
Confirm`,
    es: `Abrir chat
Cerrar chat
Mensaje
Escribe un mensaje…
Enviar
Hablar con una persona
Estás hablando con un asistente de IA.
Chatea con nosotros
Asistente
Reconectando…
Eres el número {n} en la cola.
Espera estimada: unos {m} min.
Esperando a que se una una persona…
{name} está escribiendo…
Este chat ha terminado.
Terminar chat
Iniciar un chat nuevo
No hay nadie disponible ahora. Déjanos un mensaje y te responderemos por correo.
Tu correo electrónico
¡Gracias! Te responderemos por correo.
¿Cómo valorarías este chat?
{n} de 5
¡Gracias por tu opinión!
Fuentes
{n} mensajes sin leer
Hablando con {name}
Mensajes nuevos
¿Terminar este chat?
Sí, terminar
Cancelar
Dejar mensaje
Pésimo|Malo|Normal|Bueno|Excelente
Añade un comentario (opcional)
Enviar valoración
Adjuntar un archivo
{name}: supera {max}.
{name}: este tipo de archivo no se acepta.
{name} no se envió. Inténtalo de nuevo.
Cerrar
Envíame esta conversación por correo
Tenemos problemas. Reintentando…
Confirmar`,
    fr: `Ouvrir le chat
Fermer le chat
Message
Écrivez un message…
Envoyer
Parler à une personne
Vous discutez avec un assistant IA.
Discutons
Assistant
Reconnexion…
Vous êtes n° {n} dans la file.
Attente estimée : environ {m} min.
En attente d’une personne…
{name} écrit…
Cette conversation est terminée.
Terminer la conversation
Nouvelle conversation
Personne n’est disponible pour le moment. Laissez un message, nous répondrons par e-mail.
Votre e-mail
Merci ! Nous vous répondrons par e-mail.
Comment évaluez-vous cette conversation ?
{n} sur 5
Merci pour votre avis !
Sources
{n} messages non lus
En conversation avec {name}
Nouveaux messages
Terminer ce chat ?
Oui, terminer
Annuler
Laisser un message
Très mauvais|Mauvais|Correct|Bon|Excellent
Ajoutez un commentaire (facultatif)
Envoyer la note
Joindre un fichier
{name} : dépasse {max}.
{name} : ce type de fichier n'est pas accepté.
{name} n'a pas été envoyé. Réessayez.
Fermer
M'envoyer cette conversation par e-mail
Nous avons un problème. Nouvel essai…
Confirmer`,
    de: `Chat öffnen
Chat schließen
Nachricht
Nachricht schreiben…
Senden
Mit einem Menschen sprechen
Sie chatten mit einem KI-Assistenten.
Chatten Sie mit uns
Assistent
Verbindung wird wiederhergestellt…
Sie sind Nummer {n} in der Warteschlange.
Geschätzte Wartezeit: etwa {m} Min.
Warten auf einen Mitarbeiter…
{name} schreibt…
Dieser Chat ist beendet.
Chat beenden
Neuen Chat starten
Gerade ist niemand erreichbar. Hinterlassen Sie eine Nachricht, wir antworten per E-Mail.
Ihre E-Mail-Adresse
Danke! Wir antworten per E-Mail.
Wie bewerten Sie diesen Chat?
{n} von 5
Danke für Ihr Feedback!
Quellen
{n} ungelesene Nachrichten
Im Chat mit {name}
Neue Nachrichten
Diesen Chat beenden?
Ja, beenden
Abbrechen
Nachricht hinterlassen
Sehr schlecht|Schlecht|Okay|Gut|Sehr gut
Kommentar hinzufügen (optional)
Bewertung senden
Datei anhängen
{name}: größer als {max}.
{name}: Dieser Dateityp wird nicht angenommen.
{name} wurde nicht gesendet. Erneut versuchen.
Schließen
Diesen Chat per E-Mail senden
Wir haben Probleme. Neuer Versuch…
Bestätigen`,
    pt: `Abrir chat
Fechar chat
Mensagem
Escreva uma mensagem…
Enviar
Falar com uma pessoa
Você está conversando com um assistente de IA.
Fale conosco
Assistente
Reconectando…
Você é o número {n} na fila.
Espera estimada: cerca de {m} min.
Aguardando uma pessoa…
{name} está digitando…
Este chat foi encerrado.
Encerrar chat
Iniciar novo chat
Ninguém está disponível agora. Deixe uma mensagem e responderemos por e-mail.
Seu e-mail
Obrigado! Responderemos por e-mail.
Como você avalia este chat?
{n} de 5
Obrigado pela sua opinião!
Fontes
{n} mensagens não lidas
Conversando com {name}
Novas mensagens
Terminar este chat?
Sim, terminar
Cancelar
Deixar mensagem
Péssimo|Mau|Razoável|Bom|Ótimo
Adicione um comentário (opcional)
Enviar avaliação
Anexar um ficheiro
{name}: maior que {max}.
{name}: este tipo de ficheiro não é aceite.
{name} não foi enviado. Tente novamente.
Fechar
Enviar esta conversa para o meu e-mail
Estamos com problemas. Tentando de novo…
Confirmar`,
    it: `Apri la chat
Chiudi la chat
Messaggio
Scrivi un messaggio…
Invia
Parla con una persona
Stai parlando con un assistente IA.
Scrivici
Assistente
Riconnessione…
Sei il numero {n} in coda.
Attesa stimata: circa {m} min.
In attesa di un operatore…
{name} sta scrivendo…
Questa chat è terminata.
Termina la chat
Inizia una nuova chat
Al momento non c’è nessuno disponibile. Lascia un messaggio e ti risponderemo via email.
La tua email
Grazie! Ti risponderemo via email.
Come valuti questa chat?
{n} su 5
Grazie per il tuo feedback!
Fonti
{n} messaggi non letti
In chat con {name}
Nuovi messaggi
Terminare questa chat?
Sì, termina
Annulla
Lascia un messaggio
Pessimo|Scarso|Discreto|Buono|Ottimo
Aggiungi un commento (facoltativo)
Invia valutazione
Allega un file
{name}: supera {max}.
{name}: tipo di file non accettato.
{name} non è stato inviato. Riprova.
Chiudi
Inviami questa conversazione via email
Abbiamo un problema. Nuovo tentativo…
Conferma`,
    nl: `Chat openen
Chat sluiten
Bericht
Typ een bericht…
Versturen
Met een medewerker praten
Je chat met een AI-assistent.
Chat met ons
Assistent
Opnieuw verbinden…
Je bent nummer {n} in de wachtrij.
Geschatte wachttijd: ongeveer {m} min.
Wachten op een medewerker…
{name} typt…
Deze chat is beëindigd.
Chat beëindigen
Nieuwe chat starten
Er is nu niemand beschikbaar. Laat een bericht achter, dan antwoorden we per e-mail.
Je e-mailadres
Bedankt! We antwoorden per e-mail.
Hoe beoordeel je deze chat?
{n} van 5
Bedankt voor je feedback!
Bronnen
{n} ongelezen berichten
In gesprek met {name}
Nieuwe berichten
Deze chat beëindigen?
Ja, beëindigen
Annuleren
Bericht achterlaten
Heel slecht|Slecht|Oké|Goed|Uitstekend
Voeg een opmerking toe (optioneel)
Beoordeling versturen
Bestand bijvoegen
{name}: groter dan {max}.
{name}: dit bestandstype wordt niet geaccepteerd.
{name} is niet verzonden. Probeer opnieuw.
Sluiten
Stuur me dit gesprek per e-mail
We hebben een storing. Opnieuw proberen…
Bevestigen`,
    ro: `Deschide chatul
Închide chatul
Mesaj
Scrie un mesaj…
Trimite
Vorbește cu o persoană
Vorbești cu un asistent AI.
Scrie-ne
Asistent
Se reconectează…
Poziția ta în coadă: {n}.
Timp estimat de așteptare: aproximativ {m} min.
Se așteaptă o persoană…
{name} scrie…
Această conversație s-a încheiat.
Încheie conversația
Începe o conversație nouă
Nu este nimeni disponibil acum. Lasă un mesaj și îți răspundem prin e-mail.
Adresa ta de e-mail
Mulțumim! Îți vom răspunde prin e-mail.
Cum evaluezi această conversație?
{n} din 5
Mulțumim pentru părere!
Surse
{n} mesaje necitite
Vorbești cu {name}
Mesaje noi
Închei acest chat?
Da, închide
Anulează
Lasă un mesaj
Foarte rău|Rău|Acceptabil|Bine|Excelent
Adaugă un comentariu (opțional)
Trimite evaluarea
Atașează un fișier
{name}: depășește {max}.
{name}: acest tip de fișier nu este acceptat.
{name} nu a fost trimis. Încearcă din nou.
Închide
Trimite-mi conversația pe e-mail
Avem probleme. Încercăm din nou…
Confirmă`,
    bg: `Отвори чата
Затвори чата
Съобщение
Напишете съобщение…
Изпрати
Говорете с човек
Разговаряте с асистент с изкуствен интелект.
Пишете ни
Асистент
Повторно свързване…
Вие сте номер {n} на опашката.
Очаквано чакане: около {m} мин.
Изчакване на служител…
{name} пише…
Този чат приключи.
Край на чата
Започни нов чат
В момента няма свободен служител. Оставете съобщение и ще ви отговорим по имейл.
Вашият имейл
Благодарим! Ще ви отговорим по имейл.
Как оценявате този чат?
{n} от 5
Благодарим за отзива!
Източници
{n} непрочетени съобщения
Разговор с {name}
Нови съобщения
Да приключи ли този чат?
Да, приключи
Отказ
Оставете съобщение
Ужасно|Лошо|Добре|Много добре|Отлично
Добавете коментар (по желание)
Изпрати оценката
Прикачи файл
{name}: над {max}.
{name}: този вид файл не се приема.
{name} не е изпратен. Опитайте отново.
Затвори
Изпратете ми разговора по имейл
Имаме проблем. Опитваме отново…
Потвърди`,
    lv: `Atvērt tērzēšanu
Aizvērt tērzēšanu
Ziņa
Rakstiet ziņu…
Sūtīt
Runāt ar cilvēku
Jūs sarakstāties ar MI asistentu.
Rakstiet mums
Asistents
Atjauno savienojumu…
Jūs esat {n}. rindā.
Paredzamais gaidīšanas laiks: apmēram {m} min.
Gaida darbinieku…
{name} raksta…
Šī tērzēšana ir beigusies.
Beigt tērzēšanu
Sākt jaunu tērzēšanu
Pašlaik neviens nav pieejams. Atstājiet ziņu, un mēs atbildēsim pa e-pastu.
Jūsu e-pasts
Paldies! Mēs atbildēsim pa e-pastu.
Kā jūs novērtētu šo tērzēšanu?
{n} no 5
Paldies par atsauksmi!
Avoti
Nelasītas ziņas: {n}
Sarakste ar {name}
Jaunas ziņas
Beigt šo tērzēšanu?
Jā, beigt
Atcelt
Atstāt ziņu
Ļoti slikti|Slikti|Normāli|Labi|Lieliski
Pievienojiet komentāru (pēc izvēles)
Sūtīt vērtējumu
Pievienot failu
{name}: lielāks par {max}.
{name}: šāds faila veids netiek pieņemts.
{name} netika nosūtīts. Mēģiniet vēlreiz.
Aizvērt
Nosūtīt man šo sarunu e-pastā
Mums ir traucējumi. Mēģinām vēlreiz…
Apstiprināt`,
    pl: `Otwórz czat
Zamknij czat
Wiadomość
Napisz wiadomość…
Wyślij
Porozmawiaj z człowiekiem
Rozmawiasz z asystentem AI.
Napisz do nas
Asystent
Ponowne łączenie…
Jesteś {n}. w kolejce.
Szacowany czas oczekiwania: około {m} min.
Czekamy na konsultanta…
{name} pisze…
Ten czat został zakończony.
Zakończ czat
Rozpocznij nowy czat
Nikt nie jest teraz dostępny. Zostaw wiadomość, a odpowiemy e-mailem.
Twój e-mail
Dziękujemy! Odpowiemy e-mailem.
Jak oceniasz ten czat?
{n} z 5
Dziękujemy za opinię!
Źródła
Nieprzeczytane wiadomości: {n}
Rozmowa z {name}
Nowe wiadomości
Zakończyć ten czat?
Tak, zakończ
Anuluj
Zostaw wiadomość
Fatalnie|Źle|W porządku|Dobrze|Świetnie
Dodaj komentarz (opcjonalnie)
Wyślij ocenę
Dołącz plik
{name}: większy niż {max}.
{name}: ten typ pliku nie jest akceptowany.
Nie wysłano {name}. Spróbuj ponownie.
Zamknij
Wyślij mi tę rozmowę e-mailem
Mamy problem. Próbujemy ponownie…
Potwierdź`,
    zh: `打开聊天
关闭聊天
消息
输入消息…
发送
联系人工客服
您正在与 AI 助手聊天。
联系我们
助手
正在重新连接…
您排在第 {n} 位。
预计等待：约 {m} 分钟。
正在等待客服接入…
{name} 正在输入…
本次聊天已结束。
结束聊天
开始新的聊天
目前没有客服在线。请留言，我们会通过邮件回复您。
您的邮箱
谢谢！我们会通过邮件回复您。
您如何评价本次聊天？
{n} 分（满分 5 分）
感谢您的反馈！
来源
{n} 条未读消息
正在与 {name} 聊天
新消息
结束本次聊天？
是，结束
取消
留言
很差|差|一般|好|很好
添加评论（可选）
提交评价
附加文件
{name}：超过 {max}。
{name}：不接受此文件类型。
{name} 未发送，请重试。
关闭
把这次对话发到我的邮箱
服务出现问题，正在重试…
确认`,
    ru: `Открыть чат
Закрыть чат
Сообщение
Напишите сообщение…
Отправить
Позвать человека
Вы общаетесь с ИИ-ассистентом.
Напишите нам
Ассистент
Переподключение…
Вы {n}-й в очереди.
Ожидание: около {m} мин.
Ждём, когда подключится сотрудник…
{name} печатает…
Чат завершён.
Завершить чат
Начать новый чат
Сейчас никого нет на связи. Оставьте сообщение, и мы ответим по почте.
Ваш e-mail
Спасибо! Мы ответим по почте.
Как вы оцените этот чат?
{n} из 5
Спасибо за отзыв!
Источники
Непрочитанных сообщений: {n}
Чат с {name}
Новые сообщения
Завершить этот чат?
Да, завершить
Отмена
Оставить сообщение
Ужасно|Плохо|Нормально|Хорошо|Отлично
Комментарий (необязательно)
Отправить оценку
Прикрепить файл
{name}: больше {max}.
{name}: такой тип файла не принимается.
{name} не отправлен. Попробуйте ещё раз.
Закрыть
Прислать мне переписку на почту
Возникли неполадки. Повторяем…
Подтвердить`,
    tr: `Sohbeti aç
Sohbeti kapat
Mesaj
Bir mesaj yazın…
Gönder
Bir kişiyle konuş
Bir yapay zekâ asistanıyla konuşuyorsunuz.
Bize yazın
Asistan
Yeniden bağlanıyor…
Sırada {n}. kişisiniz.
Tahmini bekleme: yaklaşık {m} dk.
Bir temsilcinin katılması bekleniyor…
{name} yazıyor…
Bu sohbet sona erdi.
Sohbeti bitir
Yeni sohbet başlat
Şu anda müsait kimse yok. Mesaj bırakın, size e-postayla yanıt verelim.
E-posta adresiniz
Teşekkürler! Size e-postayla yanıt vereceğiz.
Bu sohbeti nasıl değerlendirirsiniz?
5 üzerinden {n}
Geri bildiriminiz için teşekkürler!
Kaynaklar
{n} okunmamış mesaj
{name} ile sohbet
Yeni mesajlar
Bu sohbet bitirilsin mi?
Evet, bitir
İptal
Mesaj bırak
Berbat|Kötü|İdare eder|İyi|Harika
Yorum ekleyin (isteğe bağlı)
Puanı gönder
Dosya ekle
{name}: {max} sınırını aşıyor.
{name}: bu dosya türü kabul edilmiyor.
{name} gönderilemedi. Tekrar deneyin.
Kapat
Bu sohbeti bana e-postayla gönder
Bir sorun var. Yeniden deneniyor…
Onayla`,
    ja: `チャットを開く
チャットを閉じる
メッセージ
メッセージを入力…
送信
担当者と話す
AIアシスタントとチャットしています。
お問い合わせ
アシスタント
再接続中…
順番待ち：{n}番目です。
待ち時間の目安：約{m}分
担当者の参加を待っています…
{name}が入力中…
このチャットは終了しました。
チャットを終了
新しいチャットを始める
ただいま対応できる担当者がいません。メッセージを残していただければ、メールでご返信します。
メールアドレス
ありがとうございます。メールでご返信します。
このチャットの評価をお聞かせください
5段階中{n}
ご意見ありがとうございます！
参照元
未読メッセージ{n}件
{name}とチャット中
新着メッセージ
このチャットを終了しますか？
はい、終了します
キャンセル
メッセージを残す
とても悪い|悪い|普通|良い|とても良い
コメント（任意）
評価を送信
ファイルを添付
{name}：{max}を超えています。
{name}：この種類のファイルは送れません。
{name}を送信できませんでした。もう一度お試しください。
閉じる
この会話をメールで送る
問題が発生しています。再試行中…
確認する`,
    hi: `चैट खोलें
चैट बंद करें
संदेश
संदेश लिखें…
भेजें
किसी व्यक्ति से बात करें
आप एक AI सहायक से बात कर रहे हैं।
हमसे बात करें
सहायक
फिर से जुड़ रहे हैं…
कतार में आपका नंबर {n} है।
अनुमानित प्रतीक्षा: लगभग {m} मिनट।
किसी व्यक्ति के जुड़ने की प्रतीक्षा…
{name} लिख रहे हैं…
यह चैट समाप्त हो गई है।
चैट समाप्त करें
नई चैट शुरू करें
अभी कोई उपलब्ध नहीं है। संदेश छोड़ें, हम ईमेल से जवाब देंगे।
आपका ईमेल
धन्यवाद! हम ईमेल से जवाब देंगे।
आप इस चैट को कैसे रेट करेंगे?
5 में से {n}
आपकी राय के लिए धन्यवाद!
स्रोत
{n} अपठित संदेश
{name} से बातचीत
नए संदेश
यह चैट समाप्त करें?
हाँ, समाप्त करें
रद्द करें
संदेश छोड़ें
बहुत बुरा|बुरा|ठीक|अच्छा|बहुत अच्छा
टिप्पणी जोड़ें (वैकल्पिक)
रेटिंग भेजें
फ़ाइल जोड़ें
{name}: {max} से बड़ी है।
{name}: यह फ़ाइल प्रकार स्वीकार नहीं है।
{name} नहीं भेजी गई। फिर से कोशिश करें।
बंद करें
यह बातचीत मुझे ईमेल करें
कुछ समस्या है। फिर से कोशिश कर रहे हैं…
पुष्टि करें`,
    ar: `فتح الدردشة
إغلاق الدردشة
رسالة
اكتب رسالة…
إرسال
التحدث إلى شخص
أنت تتحدث مع مساعد ذكاء اصطناعي.
تحدث معنا
المساعد
جارٍ إعادة الاتصال…
ترتيبك {n} في قائمة الانتظار.
الانتظار المتوقع: نحو {m} دقيقة.
بانتظار انضمام شخص…
{name} يكتب…
انتهت هذه الدردشة.
إنهاء الدردشة
بدء دردشة جديدة
لا يوجد أحد متاح الآن. اترك رسالة وسنرد عليك بالبريد الإلكتروني.
بريدك الإلكتروني
شكرًا! سنرد عليك بالبريد الإلكتروني.
كيف تقيّم هذه الدردشة؟
{n} من 5
شكرًا على ملاحظاتك!
المصادر
{n} رسائل غير مقروءة
تتحدث مع {name}
رسائل جديدة
هل تريد إنهاء هذه الدردشة؟
نعم، أنهِها
إلغاء
اترك رسالة
سيئ جدًا|سيئ|مقبول|جيد|ممتاز
أضف تعليقًا (اختياري)
إرسال التقييم
إرفاق ملف
{name}: أكبر من {max}.
{name}: نوع الملف غير مقبول.
لم يُرسَل {name}. حاول مجددًا.
إغلاق
أرسل لي هذه المحادثة بالبريد الإلكتروني
نواجه مشكلة. نحاول مرة أخرى…
تأكيد`,
    he: `פתיחת הצ'אט
סגירת הצ'אט
הודעה
כתבו הודעה…
שליחה
לדבר עם נציג
אתם משוחחים עם עוזר בינה מלאכותית.
דברו איתנו
עוזר
מתחבר מחדש…
אתם מספר {n} בתור.
זמן המתנה משוער: כ-{m} דקות.
ממתינים להצטרפות נציג…
{name} מקליד/ה…
הצ'אט הסתיים.
סיום הצ'אט
התחלת צ'אט חדש
אין כרגע אף אחד זמין. השאירו הודעה ונחזור אליכם במייל.
המייל שלכם
תודה! נחזור אליכם במייל.
איך הייתם מדרגים את הצ'אט?
{n} מתוך 5
תודה על המשוב!
מקורות
{n} הודעות שלא נקראו
משוחחים עם {name}
הודעות חדשות
לסיים את הצ'אט?
כן, לסיים
ביטול
השארת הודעה
גרוע מאוד|גרוע|סביר|טוב|מצוין
הוסיפו הערה (לא חובה)
שליחת הדירוג
צירוף קובץ
{name}: גדול מ-{max}.
{name}: סוג הקובץ אינו מתקבל.
{name} לא נשלח. נסו שוב.
סגירה
שלחו לי את השיחה באימייל
יש לנו תקלה. מנסים שוב…
אישור`
  };

  /** Locales written right to left: the panel's `dir` follows the locale. */
  var RTL = { ar: 1, he: 1 };

  /** The first supported locale among candidates ('pt-BR' → 'pt'); 'en' if none. */
  function pickLocale(candidates) {
    for (var i = 0; i < candidates.length; i++) {
      var tag = String(candidates[i] || '').toLowerCase().replace('_', '-');
      if (STRINGS[tag]) return tag;
      var primary = tag.split('-')[0];
      if (STRINGS[primary]) return primary;
    }
    return 'en';
  }

  /** A translator for one locale: t('queue', {n: 2}). */
  function translator(locale) {
    var lines = (STRINGS[locale] || STRINGS.en).split('\n');
    var table = {};
    KEYS.forEach(function (k, i) { table[k] = lines[i].trim(); });
    return function (key, vars) {
      return table[key].replace(/\{(\w+)\}/g, function (all, name) {
        return vars && vars[name] != null ? String(vars[name]) : all;
      });
    };
  }
