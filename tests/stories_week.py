"""A week of short news articles written for the story tests (public domain, by the Hebdo
developers): sixty unrelated events, one told by three outlets, one told in French and in
English, and events that share a place but not a story."""

from __future__ import annotations

UNRELATED = [
    "Le club de Lens a battu Nantes trois buts à un samedi soir grâce à un doublé de son attaquant polonais.",
    "La Banque centrale européenne maintient ses taux directeurs inchangés, a annoncé Christine Lagarde à Francfort.",
    "Un incendie a détruit un entrepôt de meubles dans la zone industrielle de Vénissieux, sans faire de victime.",
    "Le festival de jazz de Marciac dévoile sa programmation avec Herbie Hancock et Melody Gardot en tête d'affiche.",
    "La SNCF annonce des travaux sur la ligne Paris-Lyon qui perturberont le trafic trois week-ends de suite.",
    "Des chercheurs de Montpellier ont identifié une nouvelle espèce de grenouille dans la forêt guyanaise.",
    "Le prix du gazole a reculé de quatre centimes en une semaine dans les stations-service françaises.",
    "Une avalanche a emporté deux skieurs hors-piste près de Val-d'Isère, secourus par hélicoptère.",
    "Le musée d'Orsay prépare une rétrospective consacrée au peintre norvégien Edvard Munch pour le printemps.",
    "Airbus a livré quatre-vingt-deux avions en novembre, un record mensuel pour le constructeur toulousain.",
    "La grève des contrôleurs aériens a entraîné l'annulation de trois cents vols à Marseille-Provence.",
    "Le Parlement néerlandais a adopté une loi limitant les locations touristiques à Amsterdam.",
    "Un séisme de magnitude 5,8 a secoué le nord du Chili sans provoquer de dégâts importants.",
    "Le vigneron bordelais Château Margaux a vendu sa récolte en primeur à un prix jamais atteint.",
    "La ville de Strasbourg inaugure son marché de Noël avec plus de trois cents chalets.",
    "Les chercheurs du CERN annoncent la mesure la plus précise à ce jour de la masse du boson W.",
    "Le tribunal de Rennes a condamné un promoteur immobilier pour escroquerie à quatre ans de prison.",
    "Une baleine à bosse a été observée dans l'estuaire de la Gironde, une première depuis des décennies.",
    "Le gouvernement japonais relève ses prévisions de croissance grâce au tourisme et aux exportations.",
    "La navigatrice Clarisse Crémer a franchi le cap Horn en tête de la course en solitaire.",
    "Un train de marchandises a déraillé près de Hanovre, bloquant la ligne vers Berlin pendant deux jours.",
    "Le Louvre a prêté trois statues égyptiennes au musée national du Caire pour son inauguration.",
    "Les agriculteurs bretons manifestent contre la baisse du prix du lait payé par les laiteries.",
    "La Nasa a repoussé le lancement de sa mission lunaire Artemis en raison d'une fuite d'hydrogène.",
    "Le rugby club de Toulouse s'est qualifié pour les quarts de finale de la Coupe d'Europe.",
    "Une tempête a privé d'électricité quarante mille foyers en Normandie dans la nuit de jeudi.",
    "Le chanteur Stromae annule sa tournée sud-américaine pour raisons de santé.",
    "La Commission européenne inflige une amende de neuf cents millions d'euros à un géant du numérique.",
    "Le canal de Panama limite le passage des navires à cause de la sécheresse qui frappe la région.",
    "Des archéologues ont mis au jour une villa romaine sous un parking de Nîmes.",
    "La Bourse de Tokyo a clôturé en forte hausse, portée par les valeurs technologiques.",
    "Un ours brun a été aperçu près d'un village des Pyrénées ariégeoises, inquiétant les éleveurs.",
    "Le Tour de France partira de Barcelone l'été prochain, annoncent les organisateurs.",
    "L'Inde a lancé avec succès un satellite d'observation météorologique depuis Sriharikota.",
    "La mairie de Lille lance un plan de rénovation des écoles de huit cents millions d'euros.",
    "Les ventes de voitures électriques ont dépassé celles des diesels en Allemagne en octobre.",
    "Une exposition sur les dinosaures attire des foules au muséum d'histoire naturelle de Lyon.",
    "Le Maroc a remporté la Coupe d'Afrique des nations de futsal face à l'Angola.",
    "Des inondations ont submergé plusieurs quartiers de Valence après des pluies diluviennes.",
    "Le prix Goncourt a été attribué à une romancière haïtienne pour son premier livre.",
    "La compagnie Ryanair ouvre douze nouvelles lignes au départ de Beauvais cet hiver.",
    "Un chalutier espagnol a chaviré au large de Terre-Neuve, neuf marins sont portés disparus.",
    "Le Sénat italien a approuvé la construction du pont sur le détroit de Messine.",
    "Les pompiers australiens luttent contre des feux de brousse près de Perth.",
    "La start-up nantaise Lhyfe produit son premier hydrogène vert en mer.",
    "Le violoniste Renaud Capuçon jouera le concerto de Beethoven à la Philharmonie de Paris.",
    "Une épidémie de grippe aviaire touche des élevages de canards dans les Landes.",
    "La Suède rouvre une mine de terres rares dans le nord du pays, près de Kiruna.",
    "Le basketteur Victor Wembanyama a marqué quarante points face aux Lakers de Los Angeles.",
    "Un pont suspendu s'est effondré dans l'État indien du Gujarat lors d'une fête religieuse.",
    "La Grèce double la taxe de séjour sur les îles de Santorin et Mykonos.",
    "Les éleveurs de saumon norvégiens contestent le nouvel impôt sur leurs bénéfices.",
    "Le centre Pompidou fermera cinq ans pour travaux à partir de l'automne prochain.",
    "Une panne géante a paralysé le réseau de téléphonie mobile au Brésil pendant six heures.",
    "Le cycliste slovène Tadej Pogačar remporte le Tour de Lombardie pour la quatrième fois.",
    "La reine du Danemark a annoncé son abdication lors de son discours du Nouvel An.",
    "Des astronomes ont observé une étoile à neutrons tournant sept cents fois par seconde.",
    "La ville de Bordeaux interdit les trottinettes en libre-service dans son centre historique.",
    "Un volcan islandais est entré en éruption près de la ville de Grindavík, évacuée.",
    "Le constructeur Renault présente une citadine électrique à moins de vingt mille euros.",
]

STORY_THREE = [  # one event, three outlets, three wordings
    "Une explosion a ravagé la raffinerie de Krementchouk dans la nuit de mardi à mercredi. "
    "Quatorze employés ont été blessés, dont trois grièvement, selon le gouverneur de la "
    "région de Poltava. L'incendie a été maîtrisé au matin après huit heures de lutte.",
    "Raffinerie de Krementchouk : quatorze blessés après une explosion nocturne. Le "
    "gouverneur de Poltava affirme que trois employés sont dans un état grave et que les "
    "pompiers ont éteint le feu au bout de huit heures.",
    "Krementchouk. Le gouverneur de la région de Poltava a fait état de quatorze blessés à "
    "la raffinerie, touchée par une forte explosion mercredi vers deux heures du matin ; "
    "huit heures ont été nécessaires pour venir à bout de l'incendie.",
]

FR_EN = (
    "Le gouvernement ukrainien et la Banque européenne d'investissement ont signé à Lviv un "
    "accord de 450 millions d'euros pour reconstruire le réseau électrique de Kharkiv. "
    "Iouliia Svyrydenko a précisé que 120 sous-stations seraient remplacées d'ici 2027.",
    "Ukraine's government and the European Investment Bank signed a €450 million agreement "
    "in Lviv to rebuild Kharkiv's power grid. Yulia Svyrydenko said 120 substations would be "
    "replaced by 2027.",
)

KHARKIV_STRIKE_1 = (
    "Une frappe de missiles a touché un immeuble résidentiel du quartier de Saltivka à "
    "Kharkiv dans la nuit de lundi, faisant sept morts et vingt-deux blessés, selon le maire "
    "Ihor Terekhov."
)
KHARKIV_STRIKE_2 = (
    "Des bombes planantes russes ont frappé une usine de tracteurs dans le quartier "
    "industriel de Kharkiv lundi après-midi ; deux ouvriers ont été tués, a indiqué le "
    "gouverneur Oleh Synehoubov."
)
KHARKIV_CONCERT = (
    "Malgré les alertes, l'Orchestre philharmonique de Kharkiv a donné lundi soir un concert "
    "de Tchaïkovski dans une station de métro, devant quatre cents spectateurs."
)
