"""Stop words per language: function words that carry no topic."""

from __future__ import annotations

FRENCH = frozenset(
    """
    a à afin ai aie aient aies ait alors as au aucun aucune aupres auprès aura aurai auraient
    aurais aurait auras aurez auriez aurions aurons auront aussi autre autres aux avaient avais
    avait avant avec avez aviez avions avoir avons ayant ayez ayons bon c ça car ce ceci cela
    celle celles celui cependant certains ces cet cette ceux chaque chez ci comme comment d dans
    de depuis des deux devrait doit donc dont du durant elle elles en encore entre es est et
    étaient étais était étant été êtes étions être eu eue eues eurent eus eut eux fait faire
    fois font furent fut hors ici il ils j je jusqu l la là le les leur leurs lors lorsqu lui m
    ma mais me même mêmes mes moi moins mon n ne ni non nos notre nous on ont ou où par parce
    pas peu peut peuvent plus pour pourquoi pourrait près puis qu quand que quel quelle quelles
    quels qui quoi s sa sans se selon sera serai seraient serait seront ses si sien son sont
    sous soyez suis sur t ta tandis te tes toi ton tous tout toute toutes très tu un une unes
    uns va vers via voici voilà vont vos votre vous y déjà après avant-hier hier aujourd hui
    ainsi également aussi bien dès lequel laquelle lesquels lesquelles auquel duquel desquels
    """.split()
)

ENGLISH = frozenset(
    """
    a about above after again against all am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further
    had has have having he her here hers herself him himself his how i if in into is it its
    itself just me more most my myself no nor not now of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours yourself also said
    says according s t
    """.split()
)

UKRAINIAN = frozenset(
    """
    а або адже але б без би біля був була були було бути в вжеви від віт вона вони воно все
    всі всю втім де для до за з зі із й його її їх їхній коли крім ли між мене ми на над нам
    нас не неї ні ніж ну о об оскільки от під після по поки при про проти раз саме свій себе
    та так також там тим то тобто того тоді той ту тут у усі це цей ці цих цього цьому час
    через що щоб як яка які який якщо є я
    """.split()
)

RUSSIAN = frozenset(
    """
    а без более бы был была были было быть в вам вас весь во вот все всего всех вы где да
    даже для до его ее ей ему если есть еще ж же за здесь и из или им их к как ко когда кто
    ли либо мне может мы на над надо наш не него нее нет ни них но ну о об однако он она они
    оно от очень по под после при про с со так также такой там те тем то того тоже той только
    том ты у уже хотя чего чей чем что чтобы чье чья эта эти это я
    """.split()
)

STOPWORDS: dict[str, frozenset[str]] = {
    "fr": FRENCH,
    "en": ENGLISH,
    "uk": UKRAINIAN,
    "ru": RUSSIAN,
}
