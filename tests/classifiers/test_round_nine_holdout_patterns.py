"""Round nine, second pass (pat9b; classifiers/patterns.py "round nine, second pass"): the kinds of
posts holdout9's misses showed (read after its one scoring), as general rules. Threats: "shoot up"
a class named with a word or two, the harm turned from oneself to others, skipping a named event
with a warning, "start saving for ur funeral", a head through glass, "making her bleed", knowing
someone's address or schedule and coming, a younger sibling named to a reporter, arson with people
inside, following someone to their car, pills crushed into a drink, "meet me ... broken nose", and
the Spanish threat that lies in wait. Self-harm: "wanna be dead", "deciding if tonight's the
night", "not the meme kms, the real one", an earnest overdose question, a plan and "nobody's gonna
miss", "dont text me tmrw, or ever", "to not exist", skipping meals until fainting, a farewell after
giving things away; and a friend's danger (barely eating and fainting; giving things away after
saying they'd disappear). Bullying: "jump off the bridge", stereotype jabs, calls to pile on or to
pretend someone is not there, "no wonder u so dumb", "voted ugliest", a low rating of a peer,
"cute for somebody who...", "short bus", offering a video of someone's bad moment.
Each rule is tested on at least three paraphrases of our own (the holdout9 post last) and on two or
more harmless twins; the shared checks run in test_rule_tables.py."""
from __future__ import annotations

import pytest

from classifiers.patterns import _CONCERN_RULES
from tests.classifiers.rule_tables import RuleTable, plain_rules

NEW_RULES = {
    "shoot_up_named_place": "threat", "to_them_not_me": "threat", "skip_event_warning": "threat",
    "funeral_savings": "threat", "head_through": "threat", "make_bleed": "threat", "knows_whereabouts": "threat",
    "sibling_leverage": "threat", "arson_with_people": "threat", "follow_to_car": "threat",
    "pills_crushed_in": "threat", "meet_me_injury": "threat",
    "bare_want_dead": "self_harm", "tonight_the_night": "self_harm", "kms_real_one": "self_harm",
    "overdose_question": "self_harm", "plan_nobody_miss": "self_harm", "dont_text_or_ever": "self_harm",
    "to_not_exist": "self_harm", "skip_meals_faint": "self_harm",
    "friend_not_eating_fainted": "self_harm", "friend_gave_away": "self_harm",
    "jump_off_directive": "bullying", "stereotype_jab": "bullying", "pile_on_call": "bullying",
    "no_wonder_you": "bullying", "voted_worst": "bullying", "low_rating_peer": "bullying",
    "praise_for_someone_who": "bullying", "short_bus": "bullying", "offer_the_video": "bullying",
}

POSITIVES = [
    ("im gonna shoot up the whole chem lab class on friday", "shoot_up_named_place"),
    ("i might shoot up that stupid spanish class one day fr", "shoot_up_named_place"),
    ("honestly i would shoot up this whole honors school and not feel bad", "shoot_up_named_place"),
    ("i would shoot up that whole ap stats class if i had the chance and honestly i might", "shoot_up_named_place"),
    ("im not gonna hurt anything to myself. im gonna do it to them", "to_them_not_me"),
    ("not going to do anything to myself this time, going to do it to those kids who laughed", "to_them_not_me"),
    ("i wont do nothing to myself. im doing it to everyone who made that page", "to_them_not_me"),
    ("they think ill hurt myself. im not going to do anything to myself. im going to do it to them. after finals", "to_them_not_me"),
    ("skip the spring concert tmrw. trust me", "skip_event_warning"),
    ("dont go to the pep rally friday. you've been warned", "skip_event_warning"),
    ("band kids should stay home from the formal. its gonna be a surprise for everyone", "skip_event_warning"),
    ("someone tell the orchestra kids to skip the winter concert. there's gonna be a surprise and its not in the program", "skip_event_warning"),
    ("dont come to senior awards night. seriously. im not gonna explain", "skip_event_warning"),
    ("better start saving for ur casket bro", "funeral_savings"),
    ("tell his dad to start picking out his coffin", "funeral_savings"),
    ("she should go shopping for her funeral after what she said", "funeral_savings"),
    ("yo mateo tell ur mom start saving up for ur funeral", "funeral_savings"),
    ("talk about my sister again and ill put your head through the locker", "head_through"),
    ("im gonna smash his face into the lunch table tmrw", "head_through"),
    ("say it one more time imma shove ur skull through the window", "head_through"),
    ("anya told everyone my mom does my homework. say it one more time and i'll put ur head through the trophy case glass", "head_through"),
    ("im gonna make him bleed after practice", "make_bleed"),
    ("keep talking and ill make u bleed", "make_bleed"),
    ("she touches my phone again im finna make her bleed", "make_bleed"),
    ("if thao posts our gc screenshots again im making her bleed, i dont care if i get expelled", "make_bleed"),
    ("i know your address and im coming to your house saturday", "knows_whereabouts"),
    ("i already know his schedule. catching him after 6th", "knows_whereabouts"),
    ("i know which ones walk home alone. soon", "knows_whereabouts"),
    ("@everyone in this server who leaked my ap scores: i know ur ip and i know ur address. coming to ur house this weekend and its not to talk", "knows_whereabouts"),
    ("u got a little sister at the elementary right? be a shame", "sibling_leverage"),
    ("keep telling on me. you have a lil brother on bus 9 right? think about it", "sibling_leverage"),
    ("ya got a baby cousin at the daycare right?? just sayin", "sibling_leverage"),
    ("keep snitching to the resource officer. u got a little brother at the middle school right? just saying", "sibling_leverage"),
    ("im gonna burn that house down with all of them inside", "arson_with_people"),
    ("torching the dorm w everyone still in it", "arson_with_people"),
    ("one more write up and im setting fire to the office with staff in there", "arson_with_people"),
    ("if the caseworker moves me one more time im burning that group home down with staff inside. swear to god", "arson_with_people"),
    ("imma follow him home after his shift and he gonna see", "follow_to_car"),
    ("im following her to her house tonight, she'll see", "follow_to_car"),
    ("one day ill follow him to his truck. see what happens", "follow_to_car"),
    ("ms diaz keeps calling DCF on my mom. one day im following her to her car after work and she gonna see", "follow_to_car"),
    ("jakes water bottle is always open on the bench. my moms xanax crushed into it and he misses the game", "pills_crushed_in"),
    ("her coffee sits there every morning. laxatives dissolved in there and shes done", "pills_crushed_in"),
    ("his gatorade + my sisters sleeping pills ground up in it = no finals for him", "pills_crushed_in"),
    ("priya always leaves her boba on the table at study group. couple of my grandma's sleeping pills crushed in there and she misses the AP bio exam. doing it thursday", "pills_crushed_in"),
    ("meet me at the park after school, ur leaving with a broken jaw", "meet_me_injury"),
    ("meet me outside the rink. bloody nose guaranteed", "meet_me_injury"),
    ("meet me behind the bleachers and we'll see who has a busted lip", "meet_me_injury"),
    ("u deleted my fan server so meet me behind the gym after school. we'll see whos laughing w a broken nose", "meet_me_injury"),
    ("lowkey wanna be dead", "bare_want_dead"),
    ("ugh. want to be dead rn", "bare_want_dead"),
    ("long day. wish i was dead", "bare_want_dead"),
    ("wanna be dead", "bare_want_dead"),
    ("deciding whether today is the day tbh", "tonight_the_night"),
    ("been thinking about if tonight's the night all week", "tonight_the_night"),
    ("wondering if tonight is the night. dont text me", "tonight_the_night"),
    ("ppl in vc keep asking why im so quiet. bc im deciding if tonights the night. thats why", "tonight_the_night"),
    ("not the joke kms. the real thing this time", "kms_real_one"),
    ("ok not the tiktok kms. the real one", "kms_real_one"),
    ("not a funny kill myself. the real version", "kms_real_one"),
    ("not the meme kms. the real one. im tired of being the disappointment", "kms_real_one"),
    ("how many tylenol does it take to od. srs question", "overdose_question"),
    ("could someone overdose on benadryl?? asking for me", "overdose_question"),
    ("can u die from sleeping pills, not joking", "overdose_question"),
    ("can u actually od on melatonin. asking for real not as a joke", "overdose_question"),
    ("i have a plan now. nobody will even miss me", "plan_nobody_miss"),
    ("picked a date for after the tournament. nobody is gonna miss the backup goalie", "plan_nobody_miss"),
    ("got a plan for this weekend. nobody would miss me anyway", "plan_nobody_miss"),
    ("made a plan for after the winter concert. nobody's gonna miss a second violin anyway", "plan_nobody_miss"),
    ("dont call me tomorrow. or ever again. love yall", "dont_text_or_ever"),
    ("u dont have to check on me friday, or ever after that", "dont_text_or_ever"),
    ("don't text me tonight. and after that", "dont_text_or_ever"),
    ("dont text me tmrw. or ever i guess. love u guys in the study group, ur the only good part", "dont_text_or_ever"),
    ("i guess ill just be the first to not wake up", "to_not_exist"),
    ("im gonna be the one kid in this family to not be alive by june", "to_not_exist"),
    ("ill be the only one at this school to not exist next year", "to_not_exist"),
    ("maa says nobody in our family ever got a C. so i guess ill be the first one in the family to not exist either", "to_not_exist"),
    ("didnt eat all day and did sprints til i almost blacked out", "skip_meals_faint"),
    ("skipping every meal and running until i nearly fainted again", "skip_meals_faint"),
    ("havent eaten since sunday. worked out to the point i passed out", "skip_meals_faint"),
    ("skipped breakfast and lunch and ran laps in pe til i almost passed out. goal is under 90 by summer", "skip_meals_faint"),
    ("gave my switch to my cousin and my hoodie to my sister. dont be mad at me", "giving_away_farewell"),
    ("giving away my jerseys to the jv kids. yall were the best. remember me", "giving_away_farewell"),
    ("handed my sketchbooks to my best friend. u guys were the realest", "giving_away_farewell"),
    ("gave my pit to my cousin and my jordans to my little brother. yall were the realest. dont be mad at me", "giving_away_farewell"),
    ("my best friend barely eats and she passed out in gym today", "friend_not_eating_fainted"),
    ("my bf stopped eating two weeks ago and fainted at work", "friend_not_eating_fainted"),
    ("she lives on diet coke and gum and she collapsed at practice", "friend_not_eating_fainted"),
    ("my cousin only eats ice chips during finals and says its 'for focus'. she fainted at orchestra practice today", "friend_not_eating_fainted"),
    ("he said he wont be around much longer and gave me his switch", "friend_gave_away"),
    ("my friend keeps saying she wants to disappear and she gave away her art", "friend_gave_away"),
    ("my brother gave me all his games and said goodbye. im scared", "friend_gave_away"),
    ("arjun said 'if i dont get into stanford i'll just disappear' and he wasnt laughing. now he's giving away his stuff", "friend_gave_away"),
    ("ms rivera can u check on dayanna. she told me at lunch she not gonna be a problem much longer and then gave me her hoodie", "friend_gave_away"),
    ("go jump off a bridge jenna nobody wants u here", "jump_off_directive"),
    ("do the world a favor and jump off the overpass", "jump_off_directive"),
    ("u should go jump off that parking garage lol", "jump_off_directive"),
    ("do everybody a favor and jump off the mill bridge kev", "jump_off_directive"),
    ("for a mexican u really are slow at soccer", "stereotype_jab"),
    ("for an indian he sure is bad at spelling bee lmao", "stereotype_jab"),
    ("for a korean u r terrible at starcraft", "stereotype_jab"),
    ("for an asian u sure are bad at math lmao ur ancestors r crying", "stereotype_jab"),
    ("everybody in the replies say something about how ugly her glasses are", "pile_on_call"),
    ("guys pretend maddie isnt in the gc", "pile_on_call"),
    ("yall comment how musty his hoodie is 😭", "pile_on_call"),
    ("everyone pretend ash isnt in the call again. its so funny when she keeps going 'hello?? can u hear me??'", "pile_on_call"),
    ("everybody in the comments say something about how crusty andre's shoes are. go 👇", "pile_on_call"),
    ("ur mom on welfare no wonder ur so weird", "no_wonder_you"),
    ("no wonder she is always alone, look at her", "no_wonder_you"),
    ("his dad left, no wonder hes such a loser", "no_wonder_you"),
    ("ur dad in prison and ur mom on pills, no wonder u so dumb", "no_wonder_you"),
    ("we all voted jess ugliest in the grade lol", "voted_worst"),
    ("the gc voted him most likely to die alone", "voted_worst"),
    ("vote: who's the smelliest kid in homeroom", "voted_worst"),
    ("we voted ugliest in the whole program and it was unanimous. congrats britt 🏆", "voted_worst"),
    ("rating tays hair 1/10 she really tried", "low_rating_peer"),
    ("giving his drawing a 0/10", "low_rating_peer"),
    ("i rate her makeup -5/10 😭", "low_rating_peer"),
    ("rating elena's outfit 2/10. the 2 is cause at least the ebt card matched", "low_rating_peer"),
    ("pretty for a girl who clearly cant afford a haircut", "praise_for_someone_who"),
    ("smart for someone who got held back twice", "praise_for_someone_who"),
    ("not bad for somebody who still sleeps with the lights on lol", "praise_for_someone_who"),
    ("u look cute for somebody who clearly shops at the dollar store babe 💕", "praise_for_someone_who"),
    ("bro belongs on the short bus fr", "short_bus"),
    ("short bus kid strikes again 😂", "short_bus"),
    ("she needs to ride the short bus fr it shows", "short_bus"),
    ("he didnt get sent here cause hes bad he got sent here cause hes slow lmao short bus energy", "short_bus"),
    ("mia cried in the bathroom for an hour. i got the video, dm me", "offer_the_video"),
    ("he fell off the stage and ive got the clip if anyone wants", "offer_the_video"),
    ("she peed herself in gym 💀 i have the recording hmu", "offer_the_video"),
    ("did yall see jenny throw up in the middle of the ap exam 🤮 i have the video lmk if u want it", "offer_the_video"),
]

NEGATIVES = [
    ("i shoot up the leaderboard in this class every week", "shoot_up_named_place"),
    ("my grades shot up in that whole chem class lol", "shoot_up_named_place"),
    ("im not going to do anything to myself. im safe, i promise", "to_them_not_me"),
    ("not doing anything to myself today except a nap", "to_them_not_me"),
    ("skip the spring concert, its cancelled. seriously", "skip_event_warning"),
    ("dont go to the pep rally friday its freezing out trust me", "skip_event_warning"),
    ("i might skip the dance honestly, trust me im tired", "skip_event_warning"),
    ("my grandpa said start saving for ur own funeral, theyre expensive", "funeral_savings"),
    ("we started saving for grandmas funeral", "funeral_savings"),
    ("im gonna put my head through the wall this homework is so long", "head_through"),
    ("ill put ur face in the yearbook spread 😌", "head_through"),
    ("this song makes my ears bleed", "make_bleed"),
    ("the spicy noodles made me cry not bleed lol", "make_bleed"),
    ("i know ur schedule is packed so lmk when ur free", "knows_whereabouts"),
    ("i know her address so ill mail the invite", "knows_whereabouts"),
    ("u got a little brother at the middle school right? he's in my sisters class", "sibling_leverage"),
    ("you have a lil sister right? mine wants a playdate", "sibling_leverage"),
    ("the toast burned the whole house down basically lol", "arson_with_people"),
    ("burning this group chat down with all of us in it 🔥 new chat", "arson_with_people"),
    ("im following her to her car so i can get my charger back", "follow_to_car"),
    ("follow him home for the group project meeting", "follow_to_car"),
    ("my meds crushed in applesauce bc i cant swallow pills", "pills_crushed_in"),
    ("the vet said his pills crushed in peanut butter works best", "pills_crushed_in"),
    ("meet me at the rink, i broke my nose last season lol", "meet_me_injury"),
    ("meet me at the nurse, i have a bloody nose from dodgeball", "meet_me_injury"),
    ("wanna be dead last in the race so i can walk", "bare_want_dead"),
    ("want to be dead serious for a sec: whos driving saturday", "bare_want_dead"),
    ("deciding if tonight is the night i finally beat this boss", "tonight_the_night"),
    ("wondering if today is the day they post grades lol", "tonight_the_night"),
    ("not the meme kms lol the real one is my math grade", "kms_real_one"),
    ("not the fake tiktok version. the real one from the concert", "kms_real_one"),
    ("can u od on melatonin? i took 2 for jet lag, is that normal", "overdose_question"),
    ("how many advil can u take for cramps", "overdose_question"),
    ("made a plan for the study group. nobody is gonna miss the review", "plan_nobody_miss"),
    ("we have a plan for the party, nobody will miss the surprise", "plan_nobody_miss"),
    ("dont text me tmrw, im at my grandmas. or text after 6", "dont_text_or_ever"),
    ("dont call me tonight or ever again if ur gonna be weird about my ex lol", "dont_text_or_ever"),
    ("ill be the first in my family to not go to state school", "to_not_exist"),
    ("im gonna be the only one to not show up in costume", "to_not_exist"),
    ("skipped lunch bc of the field trip and ate on the bus", "skip_meals_faint"),
    ("didnt eat breakfast til i got to school lol", "skip_meals_faint"),
    ("gave my old cleats to my cousin bc they dont fit. yall were the best team", "giving_away_farewell"),
    ("giving my hoodie to my sister since i got a new one. dont be mad at me", "giving_away_farewell"),
    ("my friend barely ate lunch but she was fine at practice", "friend_not_eating_fainted"),
    ("she stopped eating meat and feels great", "friend_not_eating_fainted"),
    ("my friend gave me her hoodie bc i was cold", "friend_gave_away"),
    ("she gave away her old games to the library, shes moving to pc", "friend_gave_away"),
    ("we jumped off the bridge at the lake all summer", "jump_off_directive"),
    ("go jump off the diving board at the meet, coach says ur up", "jump_off_directive"),
    ("for a freshman u really are good at this", "stereotype_jab"),
    ("for a girl who just started ur amazing at chess", "stereotype_jab"),
    ("everybody in the comments say something about how pretty her dress is", "pile_on_call"),
    ("everyone pretend the teacher isnt looking and throw confetti at 3", "pile_on_call"),
    ("no wonder ur tired, u worked a double", "no_wonder_you"),
    ("no wonder shes so good, she practices every day", "no_wonder_you"),
    ("we voted for prom court today", "voted_worst"),
    ("someone made a poll voting me ugliest. what do i do", "voted_worst"),
    ("rating my own outfit 2/10 today, laundry day", "low_rating_peer"),
    ("rating maya's outfit 10/10 she ate", "low_rating_peer"),
    ("good for someone who started last month!!", "praise_for_someone_who"),
    ("pretty good for a person who never played before, proud of u", "praise_for_someone_who"),
    ("my aunt drives the short bus for the district", "short_bus"),
    ("the short bus picks up my brother at 7", "short_bus"),
    ("i got the video of the concert, dm me if u want it", "offer_the_video"),
    ("i have the clip of ur goal lmk if u want it for ur edit", "offer_the_video"),
]


def test_friend_reports_are_concern_rules():
    # a friend's danger reported is never weakened by its report (patterns._quoted)
    assert {"friend_not_eating_fainted", "friend_gave_away"} <= _CONCERN_RULES


@pytest.mark.parametrize("text", [
    "she gave me her hoodie. she said she wont be around much longer",
    "he gave away his games and said goodbye to everyone",
])
def test_a_friend_giving_things_away_with_a_sign_is_concern(text):
    assert "friend_gave_away" in plain_rules(text)


@pytest.mark.parametrize("text", [
    "skip the concert friday",                           # no warning sign
    "i know his address",                                # no sign of coming
    "jakes pills crushed in there",                      # no drink or food named
])
def test_rules_needing_a_second_sign_wait_for_it(text):
    assert not plain_rules(text) & {"skip_event_warning", "knows_whereabouts", "pills_crushed_in"}


# --- help-seeking (classifiers/helpseeking.py, "round nine") -------------------------------------
# from holdout7's and holdout9's help posts labelled bullying or threat (read after their scoring):
# not knowing whom to tell, evidence taken to an adult, going with the one picked on to the office,
# how to report an account or page, and a witness saying the one shared did not consent
HELP = [
    "idk who to tell but the seniors keep taking my lunch",
    "im not sure who to talk to about the gc they made about me",
    "they posted my old pics again. i took the screenshots to the counselor",
    "i gave all the dms to ms ortiz this morning",
    "ur not alone, ill walk with u to guidance tomorrow",
    "we can go to the office together after 2nd",
    "how do i report a tiktok account that keeps posting my sister",
    "how can someone report a discord server posting pics of us",
    "stop sharing the pic of jada, she didnt consent to that",
    "these girls made a gc called 'ew chloe' and added me just so id see it. im chloe. idk who to tell",
    "to whoever keeps telling marisol to kys in her comments: she been through enough. i screenshotted all of it and gave it to ms pereira",
    "pls dont share the screenshot of lena's vent, she didnt consent to that. report whoever leaked it",
]
NOT_HELP = [
    "im gonna go to the office and tell them i did it lol",
    "we gonna walk to the store after school",
    "gave it to him good in the game last night",
    "how do i report my taxes lol",
]


# the shared checks (rules found plainly, not by their twins, keys, batch; help posts found, their
# look-alikes not) run in test_rule_tables.py
TABLE = RuleTable("round nine, second pass", NEW_RULES, POSITIVES, NEGATIVES, min_positives=4, min_negatives=2,
                  help=tuple(HELP), not_help=tuple(NOT_HELP))


def test_a_relative_hurt_in_a_reported_video_is_not_a_threat():
    # getting_jumped: the poster's own cousin is the one hurt (a report), not a threat
    assert "getting_jumped" not in plain_rules(
        "how do u report an ig page posting fights from our school? one of the videos is my little cousin getting jumped")
    assert "getting_jumped" in plain_rules("his little cousin getting jumped after school, bet")


@pytest.mark.parametrize("text, help_post", [
    ("coach said come talk to him if anyone on the team keeps messing with me. so i will", True),
    ("Pastor Mike said come talk to him if anybody at youth group is messin with u. so im gonna. Kaylee and them wont leave me alone", True),
    ("jake said come find him after school. bet", False),        # a fight, not an adult's invitation
    ("this is my last post. thank u to the people who cared. please dont come find me", False),   # a goodbye
])
def test_an_adults_invitation_to_talk(text, help_post):
    from classifiers.helpseeking import is_help_seeking
    assert is_help_seeking(text) is help_post
