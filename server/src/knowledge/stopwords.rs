//! Stopword lists: the function words that carry no topic.
//!
//! They are dropped from passages and queries alike, so that "what is the weather in Paris"
//! is judged on "weather" and "paris" alone and cannot look covered because every help page
//! also contains "is", "the" and "in". IDF would down-weight such words anyway, but the
//! confidence counts which query terms a passage contains, and a word that is everywhere
//! must not count as evidence.
//!
//! The lists follow the Snowball project's stop lists, trimmed to the commonest words, plus
//! a few conversational fillers ("please", "hello", "thanks") that visitors add to a
//! question without changing its topic. Accents do not matter: the analyser normalises each
//! word exactly as it normalises text before comparing. CJK words are not listed: CJK text
//! is indexed as character bigrams, and only the particles in [`CJK_PARTICLES`] are dropped
//! as unigrams.

const ENGLISH: &str = "
    i me my myself we our ours ourselves you your yours yourself yourselves he him his
    himself she her hers herself it its itself they them their theirs themselves what which
    who whom whose this that these those am is are was were be been being have has had
    having do does did doing done a an the and but if or because as until while of at by for
    with about against between into through during before after above below to from up down
    in out on off over under again further then once here there when where why how all any
    both each few more most other some such no nor not only own same so than too very can
    will just don should now would could shall may might must also ll ve re isn aren wasn
    weren hasn haven hadn doesn didn won wouldn shan shouldn couldn mustn let lets
    please pls hi hello hey thanks thank thx ok okay yes yeah want wanna need tell know
    like get got go going much many way something anything someone anyone thing things";

const FRENCH: &str = "
    au aux avec ce ces dans de des du elle en et eux il ils je la le les leur lui ma mais me
    meme mes moi mon ne nos notre nous on ou par pas pour qu que qui sa se ses son sur ta te
    tes toi ton tu un une vos votre vous est sont etre ai as avons avez ont etait suis es
    fait faire peut peux puis dois doit veux voudrais comment quoi quel quelle quels quelles
    ou quand pourquoi combien cette cet ca cela ceci tout tous toute toutes tres bien plus
    aussi donc alors si oui non merci bonjour salut svp stp ya";

const GERMAN: &str = "
    aber alle allem allen aller alles als also am an ander andere auch auf aus bei bin bis
    bist da damit dann das dass dein deine dem den der des dich die dir doch dort du durch
    ein eine einem einen einer eines er es etwas euch euer fur hab habe haben hat hatte ich
    ihm ihn ihnen ihr ihre im in ist ja jede jeder jetzt kann kein keine konnen konnte man
    mein meine mich mir mit muss nach nicht nichts noch nun nur ob oder ohne sehr sein seine
    sich sie sind so soll sollte um und uns unser unter vom von vor war waren was weil wenn
    wer wie wieder will wir wird wo wurde zu zum zur uber bitte danke hallo wo warum wann
    welche welcher welches mochte";

const SPANISH: &str = "
    de la que el en y a los del se las por un para con no una su al lo como mas pero sus le
    ya o este si porque esta entre cuando muy sin sobre tambien me hasta hay donde quien
    desde todo nos durante todos uno les ni contra otros ese eso ante ellos e esto mi antes
    algunos que unos yo otro otras otra el tanto esa estos mucho quienes nada muchos cual
    poco ella estar estas algunas algo nosotros mis tu te ti tus ellas es son fue era soy
    estoy tengo tiene tienen puedo puede quiero quisiera hacer como cuanto cuanta por favor
    gracias hola";

const ITALIAN: &str = "
    ad al allo ai agli all alla alle con col coi da dal dallo dai dagli dall dalla dalle di
    del dello dei degli dell della delle in nel nello nei negli nell nella nelle su sul
    sullo sui sugli sull sulla sulle per tra contro io tu lui lei noi voi loro mio mia miei
    mie tuo tua tuoi tue suo sua suoi sue nostro nostra vostro vostra il lo la gli le un uno
    una ma ed se perche anche come dove che chi cui non piu quale quanto quanti quello questo
    questa sono sei siamo siete ho hai ha abbiamo avete hanno essere avere posso puoi puo
    voglio vorrei fare cosa quando per favore grazie ciao";

const PORTUGUESE: &str = "
    de a o que e do da em um para com nao uma os no se na por mais as dos como mas ao ele das
    seu sua ou quando muito nos ja eu tambem so pelo pela ate isso ela entre depois sem mesmo
    aos seus quem nas me esse eles voce essa num nem suas meu minha numa pelos elas qual lhe
    deles essas esses pelas este dele tu te voces vos lhes meus minhas teu tua nossa nosso
    isto aquilo estou esta estao sou e foi era tenho tem posso pode quero queria fazer onde
    por favor obrigado obrigada ola";

const DUTCH: &str = "
    de en van ik te dat die in een hij het niet zijn is was op aan met als voor had er maar
    om hem dan zou of wat mijn men dit zo door over ze zich bij ook tot je mij uit der daar
    haar naar heb hoe heeft hebben deze u want nog zal me zij nu ge geen omdat iets worden
    toch al waren veel meer doen toen moet ben zonder kan hun dus alles onder ja eens hier
    wie werd altijd doch wordt wezen kunnen ons zelf tegen na reeds wil kon niets uw iemand
    geweest andere waar wanneer waarom alstublieft bedankt dank hallo";

/// CJK single characters that are grammar, not topic: Chinese particles and pronouns,
/// Japanese particles and copulas. Only their unigrams are dropped; the bigrams they form
/// with neighbours stay, since a bigram such as "我的" is rare enough for IDF to handle.
pub(crate) const CJK_PARTICLES: &str = "的了是在我你他她它们吗呢吧啊么和与这那个也就都要会能
    のはがをにでともやかへねよな";

/// The stop list for an ISO 639-1 language code, empty for a language without one.
pub(crate) fn for_language(language: &str) -> &'static str {
    match language {
        "en" => ENGLISH,
        "fr" => FRENCH,
        "de" => GERMAN,
        "es" => SPANISH,
        "it" => ITALIAN,
        "pt" => PORTUGUESE,
        "nl" => DUTCH,
        _ => "",
    }
}
